// The dashboards, one file each next to this one; the push dashboard gains
// its rows for chat-message pushes, JPush group apps and the delivery
// alerts' view here.
// Every query of every dashboard, variables' included, is then given the
// mixin's metricSelector and the job and instance variables, which list the
// targets metricSelector selects.
local lib = import '../lib/lib.libsonnet';
local p = import '../lib/panels.libsonnet';

{
  local c = $._config,
  local tags = { tags: c.dashboardTags },

  // ofChosenApps(metric) is metric of the apps the dashboard's variables
  // choose: Tencent IM apps by sdkappid (and window), JPush apps by app_key,
  // JPush group apps by group_key.
  local ofChosenApps(metric) = std.join('\nor\n', [
    metric + '{vendor="tencent_im", app=~"$sdkappid", window=~"$window|tracked"}',
    metric + '{vendor="jpush", source!="jpush_group_messages", app=~"$app_key"}',
    metric + '{source="jpush_group_messages", app=~"$group_key"}',
  ]),

  // Below the last row of push-delivery.libsonnet (it ends at y 105).
  local y0 = 105,
  local pushRows = [
    p.row(26, 'Tencent IM chat-message pushes (normal_push_statistics) beside all-member pushes', y0),
    p.timeseries(
      27,
      'Chat-message push funnel',
      'Offline pushes triggered by one-to-one and group chat messages over each rolling window: TotalCount (target), SentCount, DeliveredCount and ClickCount of `normal_push_statistics`, as `tencent_im_normal_push_window_*`.',
      [
        ['tencent_im_normal_push_window_%s{sdkappid=~"$sdkappid", window=~"$window"}' % s, '{{sdkappid}} {{window}} %s' % s]
        for s in ['target', 'sent', 'delivered', 'clicked']
      ],
      'short',
      { h: 9, w: 8, x: 0, y: y0 + 1 },
    ),
    p.timeseries(
      28,
      'Chat-message reach per channel (delivered / sent)',
      'DeliveredCount / SentCount of chat-message pushes per push channel (PushPlatform) over each rolling window: the recording rule `sdkappid_window_platform:tencent_im_normal_push_window_platform_delivered_per_sent:ratio`.',
      [['sdkappid_window_platform:tencent_im_normal_push_window_platform_delivered_per_sent:ratio{sdkappid=~"$sdkappid", window=~"$window"}', '{{sdkappid}} {{window}} {{platform}}']],
      'percentunit',
      { h: 9, w: 8, x: 8, y: y0 + 1 },
      max=1,
    ),
    p.timeseries(
      29,
      'Reach per channel: chat messages beside all-member pushes',
      'Offline reach (delivered / sent) per channel of chat-message pushes (`tencent_normal_push`) and all-member pushes (`tencent_push`) over the same window, from `imstats:push_channel_reach:ratio`; `window="tracked"` is the tracked tasks over the last %s.' % c.flowWindow,
      [['imstats:push_channel_reach:ratio{vendor="tencent_im", app=~"$sdkappid", window=~"$window|tracked"}', '{{app}} {{source}} {{window}} {{channel}}']],
      'percentunit',
      { h: 9, w: 8, x: 16, y: y0 + 1 },
      max=1,
    ),

    p.row(30, 'JPush group apps (/v3/group/messages/detail, /v3/group/users)', y0 + 10),
    p.timeseries(
      31,
      'Group sent per channel',
      'Pushes sent per channel, summed over the tracked group messages: `jpush_group_message_channel_sent`.',
      [['sum by (group_key, channel) (jpush_group_message_channel_sent{group_key=~"$group_key"})', '{{group_key}} {{channel}}']],
      'short',
      { h: 9, w: 8, x: 0, y: y0 + 11 },
    ),
    p.timeseries(
      32,
      'Group reach per channel (received / sent)',
      'Received / sent per message type, platform and channel over the tracked group messages: the recording rule `group_key_type_platform_channel:jpush_group_message_channel_received_per_sent:ratio`.',
      [['group_key_type_platform_channel:jpush_group_message_channel_received_per_sent:ratio{group_key=~"$group_key"}', '{{group_key}} {{type}} {{channel}}']],
      'percentunit',
      { h: 9, w: 8, x: 8, y: y0 + 11 },
      max=1,
    ),
    p.timeseries(
      33,
      'Group users',
      'New, online and active users of the group apps for the latest complete day, per platform: `jpush_group_users_{new,online,active}`.',
      [
        ['jpush_group_users_%s{group_key=~"$group_key"}' % s, '{{group_key}} {{platform}} %s' % s]
        for s in ['new', 'online', 'active']
      ],
      'short',
      { h: 9, w: 8, x: 16, y: y0 + 11 },
    ),

    p.row(34, 'Delivery health: what the delivery alerts compare', y0 + 20),
    p.timeseries(
      35,
      'Channel reach against its peers',
      "Each channel's reach divided by the reach of the other channels of the same app, source and window (`imstats:push_channel_reach_vs_peers:ratio`): 1 = as good as its peers. ImstatsPushChannelBelowPeers fires under %g (averaged over %s), ImstatsPushChannelBelowNormal under %g of the channel's own %s average. The apps are those chosen above, the Tencent IM windows those of the window variable." % [c.channelPeerFloor, c.smoothing, c.channelNormalFactor, c.baselineWindow],
      [[ofChosenApps('imstats:push_channel_reach_vs_peers:ratio'), '{{vendor}} {{app}} {{source}} {{window}} {{channel}}']],
      'percentunit',
      { h: 9, w: 12, x: 0, y: y0 + 21 },
    ),
    p.timeseries(
      36,
      'App reach (all channels)',
      'Delivered / sent over all channels of an app, per source and window (`imstats:push_app_reach:ratio`). ImstatsPushDeliveryBelowNormal fires when its %s average falls under %g of its %s average. The apps are those chosen above, the Tencent IM windows those of the window variable.' % [c.smoothing, c.deliveryNormalFactor, c.baselineWindow],
      [[ofChosenApps('imstats:push_app_reach:ratio'), '{{vendor}} {{app}} {{source}} {{window}}']],
      'percentunit',
      { h: 9, w: 12, x: 12, y: y0 + 21 },
      max=1,
    ),
  ],

  local push = (import 'push-delivery.libsonnet') + {
    description: 'Push funnels, reach and click rates per vendor channel for Tencent IM all-member and chat-message pushes, JPush apps and JPush group apps, from imstats_exporter.',
    panels+: pushRows + (import 'push-why.libsonnet')(c, $.pushEventsRules, $.pushLossRules, y0 + 30),
    templating+: {
      list+: [
        p.variable(
          'group_key',
          'Group key',
          'JPush group apps (group_key) the exporter collects.',
          'label_values(imstats_exporter_refresh_success{source=~"jpush_group_messages|jpush_group_users"}, app)',
        ),
      ],
    },
  },

  // The matchers every query gets.
  local matchers = std.join(', ', [m for m in [c.metricSelector, 'job=~"$job"', 'instance=~"$instance"'] if m != '']),
  // withMatchers adds them to every selector of a query: every selector
  // has braces, `{}` when it has no matcher of its own.
  local withMatchers(expr) = std.strReplace(std.strReplace(expr, '{', '{' + matchers + ', '), ', }', '}'),
  local panelWithMatchers(panel) = panel + (
    if std.objectHas(panel, 'targets') then { targets: [t { expr: withMatchers(t.expr) } for t in panel.targets] } else {}
  ) + (
    if std.objectHas(panel, 'panels') then { panels: [panelWithMatchers(q) for q in panel.panels] } else {}
  ),
  local variableWithMatchers(v) =
    if v.type == 'query' then v { definition: withMatchers(v.definition), query+: { query: withMatchers(v.query.query) } } else v,
  local target = c.dashboardTargetMetric,
  local targetVariables = [
    p.variable('job', 'Job', 'The jobs of the imstats_exporter targets (%s).' % c.metricSelector, 'label_values(%s%s, job)' % [target, lib.selector([c.metricSelector])]),
    p.variable('instance', 'Instance', 'The imstats_exporter targets of the chosen jobs.', 'label_values(%s%s, instance)' % [target, lib.selector([c.metricSelector, 'job=~"$job"'])]),
  ],
  // forTargets gives a dashboard the job and instance variables, after the
  // data source, and the matchers in every query.
  local forTargets(d) = d + tags + {
    panels: [panelWithMatchers(q) for q in d.panels],
    local vars = [variableWithMatchers(v) for v in d.templating.list],
    templating+: { list: [v for v in vars if v.type == 'datasource'] + targetVariables + [v for v in vars if v.type != 'datasource'] },
  },

  grafanaDashboards+:: {
    'exporter.json': forTargets(import 'exporter.libsonnet'),
    'push-delivery.json': forTargets(push),
    'tencent-im-operations.json': forTargets(import 'tencent-im-operations.libsonnet'),
  },
}
