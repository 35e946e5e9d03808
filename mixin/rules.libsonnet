// Recording rules: the vendor consoles' reach and click rates, and the
// per-channel sends and deliveries that the delivery alerts compare.
local lib = import 'lib/lib.libsonnet';
local sources = (import 'sources.libsonnet').sources;

{
  // The families the delivery alerts read, by source (sources.libsonnet):
  // the sources of pushes, each with its per-channel sent and delivered
  // metrics; a source that counts no pushes per channel has none.
  // stages: the metric names of "sent" and "delivered" (JPush says received).
  // drop: the labels summed away once app and channel are copied out.
  // tracked: per-ID counts that only rise, turned into the sends and
  // deliveries of the last flowWindow; the others are the vendor's own
  // rolling windows and keep their `window` label.
  local familiesBySource = {
    tencent_push: [
      {
        stages: ['tencent_im_push_window_platform_sent', 'tencent_im_push_window_platform_delivered'],
        matchers: 'event_type="offline", platform!="unknown"',
        app: 'sdkappid',
        channel: 'platform',
        drop: ['sdkappid', 'event_type', 'platform'],
        tracked: false,
      },
      {
        stages: ['tencent_im_push_task_platform_sent', 'tencent_im_push_task_platform_delivered'],
        matchers: 'event_type="offline", platform!="unknown"',
        app: 'sdkappid',
        channel: 'platform',
        drop: ['sdkappid', 'task_id', 'event_type', 'platform'],
        tracked: true,
      },
    ],
    tencent_normal_push: [{
      stages: ['tencent_im_normal_push_window_platform_sent', 'tencent_im_normal_push_window_platform_delivered'],
      matchers: 'platform!="unknown"',
      app: 'sdkappid',
      channel: 'platform',
      drop: ['sdkappid', 'platform'],
      tracked: false,
    }],
    jpush_messages: [{
      stages: ['jpush_message_channel_sent', 'jpush_message_channel_received'],
      matchers: '',
      app: 'app_key',
      channel: 'channel',
      drop: ['app_key', 'msg_id', 'type', 'platform'],
      tracked: true,
    }],
    jpush_group_messages: [{
      stages: ['jpush_group_message_channel_sent', 'jpush_group_message_channel_received'],
      matchers: '',
      app: 'group_key',
      channel: 'channel',
      drop: ['group_key', 'group_msg_id', 'type', 'platform'],
      tracked: true,
    }],
    jpush_received: [{
      stages: ['jpush_message_delivery_sent', 'jpush_message_delivery_received'],
      matchers: '',
      app: 'app_key',
      channel: 'channel',
      drop: ['app_key', 'msg_id'],
      tracked: true,
    }],
  },
  local unknown = std.setDiff(std.set(std.objectFields(familiesBySource)), std.set([s.name for s in sources])),
  local families =
    if unknown != [] then error 'rules.libsonnet: families of sources not in sources.libsonnet: ' + std.join(', ', unknown)
    else [
      f { vendor: s.vendor, source: s.name }
      for s in sources
      for f in std.get(familiesBySource, s.name, [])
    ],

  // One family's stage i (0 sent, 1 delivered) as {vendor, source, app,
  // window, channel} series; a tracked family counts what its IDs added in
  // the last w. Each ID counts only where it reports both stages: a count
  // may be null (absent), and a missing delivered count must not read as
  // nothing delivered.
  local channelStage(c, f, i, w) =
    local s = lib.selector([f.matchers, c.metricSelector]);
    local m = f.stages[i] + s, o = f.stages[1 - i] + s;
    local paired = '(%s and %s)' % [m, o];
    local counted =
      if f.tracked then
        'clamp_min(%s - (%s offset %s and %s offset %s), 0) or %s' % [paired, m, w, o, w, paired]
      else paired;
    local labelled =
      lib.setLabel(lib.setLabel(lib.copyLabel(lib.copyLabel(
        if f.tracked then lib.setLabel(counted, 'window', 'tracked') else '(%s)' % counted,
        'app', f.app), 'channel', f.channel), 'vendor', f.vendor), 'source', f.source);
    'sum without (%s) (\n  %s\n)' % [std.join(', ', f.drop), labelled],

  local channelSum(c, i) = std.join('\nor\n', [channelStage(c, f, i, c.flowWindow) for f in families]),
  // The deliveries of the tracked tasks and messages in the last
  // recentWindow. Rolling windows have no such count: their value is
  // already the deliveries of recent pushes, and it falls as pushes leave
  // the window.
  local channelRecent(c) = std.join('\nor\n', [channelStage(c, f, 1, c.recentWindow) for f in families if f.tracked]),

  local sel = lib.selector([$._config.metricSelector]),

  prometheusRules+:: {
    groups+: [
      {
        name: 'imstats_push_rates',
        rules: [
          {
            record: 'sdkappid_window_event_type_platform:tencent_im_push_window_platform_delivered_per_sent:ratio',
            expr: |||
              tencent_im_push_window_platform_delivered%(s)s
              /
              (tencent_im_push_window_platform_sent%(s)s > 0)
            ||| % { s: sel },
          },
          {
            record: 'sdkappid_window_event_type_platform:tencent_im_push_window_platform_clicked_per_delivered:ratio',
            expr: |||
              tencent_im_push_window_platform_clicked%(s)s
              /
              (tencent_im_push_window_platform_delivered%(s)s > 0)
            ||| % { s: sel },
          },
          {
            record: 'app_key_type_platform_channel:jpush_message_channel_sent:sum',
            expr: |||
              sum without (msg_id) (jpush_message_channel_sent%(s)s and jpush_message_channel_received%(s)s)
            ||| % { s: sel },
          },
          {
            record: 'app_key_type_platform_channel:jpush_message_channel_received:sum',
            expr: |||
              sum without (msg_id) (jpush_message_channel_received%(s)s and jpush_message_channel_sent%(s)s)
            ||| % { s: sel },
          },
          {
            record: 'app_key_type_platform_channel:jpush_message_channel_received_per_sent:ratio',
            expr: |||
              app_key_type_platform_channel:jpush_message_channel_received:sum%(s)s
              /
              (app_key_type_platform_channel:jpush_message_channel_sent:sum%(s)s > 0)
            ||| % { s: sel },
          },
          {
            record: 'app_key_type_platform_channel:jpush_message_channel_clicked_per_received:ratio',
            expr: |||
              sum without (msg_id) (jpush_message_channel_clicked%(s)s and jpush_message_channel_received%(s)s)
              /
              (sum without (msg_id) (jpush_message_channel_received%(s)s and jpush_message_channel_clicked%(s)s) > 0)
            ||| % { s: sel },
          },
          {
            record: 'app_key_channel:jpush_message_delivery_sent:sum',
            expr: |||
              sum without (msg_id) (jpush_message_delivery_sent%(s)s and jpush_message_delivery_received%(s)s)
            ||| % { s: sel },
          },
          {
            record: 'app_key_channel:jpush_message_delivery_received:sum',
            expr: |||
              sum without (msg_id) (jpush_message_delivery_received%(s)s and jpush_message_delivery_sent%(s)s)
            ||| % { s: sel },
          },
          {
            record: 'app_key_channel:jpush_message_delivery_received_per_sent:ratio',
            expr: |||
              app_key_channel:jpush_message_delivery_received:sum%(s)s
              /
              (app_key_channel:jpush_message_delivery_sent:sum%(s)s > 0)
            ||| % { s: sel },
          },
          {
            record: 'group_key_type_platform_channel:jpush_group_message_channel_received_per_sent:ratio',
            expr: |||
              sum without (group_msg_id) (jpush_group_message_channel_received%(s)s and jpush_group_message_channel_sent%(s)s)
              /
              (sum without (group_msg_id) (jpush_group_message_channel_sent%(s)s and jpush_group_message_channel_received%(s)s) > 0)
            ||| % { s: sel },
          },
          {
            record: 'sdkappid_window_platform:tencent_im_normal_push_window_platform_delivered_per_sent:ratio',
            expr: |||
              tencent_im_normal_push_window_platform_delivered%(s)s
              /
              (tencent_im_normal_push_window_platform_sent%(s)s > 0)
            ||| % { s: sel },
          },
          // Cross-vendor view of the campaign pushes (kept for dashboards).
          {
            record: 'imstats:push_sent:sum',
            expr: |||
              sum without (sdkappid, event_type, platform) (
                label_replace(label_replace(label_replace(
                  tencent_im_push_window_platform_sent%(s)s,
                  "provider", "tencent_im", "", ""),
                  "app", "$1", "sdkappid", "(.*)"),
                  "channel", "$1", "platform", "(.*)")
              )
              or
              sum without (app_key, type, platform) (
                label_replace(label_replace(
                  app_key_type_platform_channel:jpush_message_channel_sent:sum%(s)s,
                  "provider", "jpush", "", ""),
                  "app", "$1", "app_key", "(.*)")
              )
            ||| % { s: sel },
          },
          {
            record: 'imstats:push_delivered:sum',
            expr: |||
              sum without (sdkappid, event_type, platform) (
                label_replace(label_replace(label_replace(
                  tencent_im_push_window_platform_delivered%(s)s,
                  "provider", "tencent_im", "", ""),
                  "app", "$1", "sdkappid", "(.*)"),
                  "channel", "$1", "platform", "(.*)")
              )
              or
              sum without (app_key, type, platform) (
                label_replace(label_replace(
                  app_key_type_platform_channel:jpush_message_channel_received:sum%(s)s,
                  "provider", "jpush", "", ""),
                  "app", "$1", "app_key", "(.*)")
              )
            ||| % { s: sel },
          },
          {
            record: 'imstats:push_reach:ratio',
            expr: |||
              imstats:push_delivered:sum%(s)s
              /
              (imstats:push_sent:sum%(s)s > 0)
            ||| % { s: sel },
          },
        ],
      },
      {
        // What the delivery alerts compare, one series per {vendor, source,
        // app, window, channel}. Rules in a group run in order, so each rule
        // reads the ones above it from the same evaluation.
        name: 'imstats_push_channels',
        rules: [
          {
            record: 'imstats:push_channel_sent:sum',
            expr: channelSum($._config, 0) + '\n',
          },
          {
            record: 'imstats:push_channel_delivered:sum',
            expr: channelSum($._config, 1) + '\n',
          },
          {
            record: 'imstats:push_app_sent:sum',
            expr: 'sum without (channel) (imstats:push_channel_sent:sum%s)\n' % sel,
          },
          {
            record: 'imstats:push_app_delivered:sum',
            expr: 'sum without (channel) (imstats:push_channel_delivered:sum%s)\n' % sel,
          },
          {
            record: 'imstats:push_app_reach:ratio',
            expr: |||
              imstats:push_app_delivered:sum%(s)s
              /
              (imstats:push_app_sent:sum%(s)s > 0)
            ||| % { s: sel },
          },
          {
            record: 'imstats:push_channel_reach:ratio',
            expr: |||
              imstats:push_channel_delivered:sum%(s)s
              /
              (imstats:push_channel_sent:sum%(s)s > 0)
            ||| % { s: sel },
          },
          // The other channels of the same pushes, this one left out.
          {
            record: 'imstats:push_channel_peers_sent:sum',
            expr: |||
              imstats:push_app_sent:sum%(s)s - ignoring (channel) group_right imstats:push_channel_sent:sum%(s)s
            ||| % { s: sel },
          },
          {
            record: 'imstats:push_channel_peers_reach:ratio',
            expr: |||
              (imstats:push_app_delivered:sum%(s)s - ignoring (channel) group_right imstats:push_channel_delivered:sum%(s)s)
              /
              (imstats:push_channel_peers_sent:sum%(s)s > 0)
            ||| % { s: sel },
          },
          // 1 = as good as its peers. Recorded only once the channel would
          // have pushMinExpected deliveries at its peers' reach: right
          // after a push every count is a handful and their ratios are
          // noise, which would weigh on the averages the alerts take.
          {
            record: 'imstats:push_channel_reach_vs_peers:ratio',
            expr: |||
              imstats:push_channel_reach:ratio%(s)s
              /
              (imstats:push_channel_peers_reach:ratio%(s)s > 0)
              and imstats:push_channel_peers_reach:ratio%(s)s * imstats:push_channel_sent:sum%(s)s >= %(e)d
            ||| % { e: $._config.pushMinExpected, s: sel },
          },
          // Tracked tasks and messages: what each channel delivered in the
          // last recentWindow, and that per push sent (in the last
          // flowWindow) as a share of its peers' (1 = the same pace).
          // Recorded only once the channel would have pushMinExpected
          // deliveries in recentWindow at its peers' pace. A channel that
          // stops delivering falls to 0 within recentWindow, where the
          // hour's flow takes an hour.
          {
            record: 'imstats:push_channel_recent_delivered:sum',
            expr: channelRecent($._config) + '\n',
          },
          {
            local peersRecentReach = |||
              (
                (sum without (channel) (imstats:push_channel_recent_delivered:sum%(s)s) - ignoring (channel) group_right imstats:push_channel_recent_delivered:sum%(s)s)
                /
                (imstats:push_channel_peers_sent:sum%(s)s > 0)
              )
            ||| % { s: sel },
            record: 'imstats:push_channel_recent_vs_peers:ratio',
            expr: |||
              imstats:push_channel_recent_delivered:sum%(s)s / (imstats:push_channel_sent:sum%(s)s > 0)
              /
              (%(peers)s > 0)
              and %(peers)s * imstats:push_channel_sent:sum%(s)s >= %(e)d
            ||| % { e: $._config.pushMinExpected, s: sel, peers: std.rstripChars(peersRecentReach, '\n') },
          },
        ],
      },
    ],
  },
}
