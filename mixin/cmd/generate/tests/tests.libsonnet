// The rule tests in alerts/tests, as scenarios: each names what happens to
// which app, and which alerts must (or must not) fire, by when. Apps are
// independent series, so one timeline carries several scenarios side by side.
local s = import 'scenario.libsonnet';

function(mixin)
  local config = mixin._config;
  local h(x) = x * 60;  // minutes
  local end = h(30);
  local runbook(name) = config.runbookURLBase + std.asciiLower(name);

  // Channels and their settled delivery rates differ, as in life; each
  // settles over hours.
  local jpushChannels = {
    xiaomi: { sent: 400, rate: 0.85, settle: h(4) },
    huawei: { sent: 350, rate: 0.9, settle: h(3) },
    oppo: { sent: 150, rate: 0.75, settle: h(5) },
    vivo: { sent: 100, rate: 0.7, settle: h(5) },
  };
  local tencentChannels = {
    apns: { sent: 300, rate: 0.85, settle: 90 },
    xiaomi: { sent: 150, rate: 0.8, settle: h(2) },
    huawei: { sent: 200, rate: 0.88, settle: h(2) },
    vivo: { sent: 100, rate: 0.74, settle: 150 },
    fcm: { sent: 80, rate: 0.62, settle: h(3) },
  };
  // Chat-message pushes go out all the time, a few per channel every 5m.
  local chatChannels = {
    apns: { sent: 40, rate: 0.9, settle: 60 },
    xiaomi: { sent: 20, rate: 0.85, settle: 60 },
    huawei: { sent: 30, rate: 0.9, settle: 45 },
    oppo: { sent: 10, rate: 0.8, settle: 90 },
  };

  local jpushApp(key, channels=jpushChannels, outages={}) = {
    metrics: ['jpush_message_channel_sent', 'jpush_message_channel_received'],
    idLabel: 'msg_id',
    idPrefix: '1613',
    labels: { app_key: key, type: 'notification', platform: 'android' },
    channelLabel: 'channel',
    channels: channels,
    outages: outages,
  };
  local groupApp(key, channels=jpushChannels, outages={}) = jpushApp(key, channels, outages) + {
    metrics: ['jpush_group_message_channel_sent', 'jpush_group_message_channel_received'],
    idLabel: 'group_msg_id',
    idPrefix: 'bsp54sn8bpn8hc',
    labels: { group_key: key, type: 'notification', platform: 'android' },
  };
  local campaignApp(sdkappid, channels=tencentChannels, outages={}) = {
    metrics: ['tencent_im_push_window_platform_sent', 'tencent_im_push_window_platform_delivered'],
    labels: { sdkappid: sdkappid, event_type: 'offline' },
    channelLabel: 'platform',
    channels: channels,
    outages: outages,
  };
  local chatApp(sdkappid, outages={}) = {
    metrics: ['tencent_im_normal_push_window_platform_sent', 'tencent_im_normal_push_window_platform_delivered'],
    labels: { sdkappid: sdkappid },
    channelLabel: 'platform',
    channels: chatChannels,
    outages: outages,
  };

  // Pushes every hour from `from`: tracked JPush (group) messages, and
  // Tencent all-member pushes seen through a 1h and a 24h window.
  local hourly(app, from=0) = s.trackedPushes(app, from, 60, end);
  local windows(app, from=0) = s.windowPushes(app, 60, '1h', from, 60, end) + s.windowPushes(app, h(24), '24h', from, 60, end);
  local chat(app, from=0) = s.windowPushes(app, 60, '1h', from, 5, end);

  local third(from, to) = [{ from: from, to: to, factor: 1 / 3 }];
  local down(from) = [{ from: from, to: end + 1, factor: 0 }];

  // The scenarios. Keys are the apps' names in the alerts.
  local apps = {
    // A normal day: pushes every hour, each starting at a low delivered
    // ratio and settling over hours. Nothing fires.
    normal: hourly(jpushApp('normal0000000000000000a1'))
                        + windows(campaignApp('1400000001'))
            + chat(chatApp('1400000001')),
    // A channel with a handful of sends that never delivers: too few to
    // judge. Nothing fires.
    lowVolume: hourly(jpushApp('lowvolume000000000000a2', { xiaomi: jpushChannels.xiaomi, huawei: jpushChannels.huawei, meizu: { sent: 2, rate: 0, settle: 60 } }))
               + windows(campaignApp('1400000002', tencentChannels { meizu: { sent: 2, rate: 0, settle: 60 } })),
    // A new install: one hour of data, every push still fresh. Nothing
    // fires.
    fresh: hourly(jpushApp('freshinstall0000000000a5'), from=h(29))
           + windows(campaignApp('1400000005'), from=h(29))
           + chat(chatApp('1400000005'), from=h(29)),
    // One channel at a third of its normal rate from 25h to 28h: JPush
    // xiaomi of one app, JPush group huawei, Tencent all-member huawei and
    // chat-message xiaomi of one app.
    drop: hourly(jpushApp('dropchannel00000000000a3', outages={ xiaomi: third(h(25), h(28)) }))
          + hourly(groupApp('dropgroup000000000000g3', channels={ xiaomi: jpushChannels.xiaomi, huawei: jpushChannels.huawei, oppo: jpushChannels.oppo }, outages={ huawei: third(h(25), h(28)) }))
          + windows(campaignApp('1400000003', outages={ huawei: third(h(25), h(28)) }))
          + chat(chatApp('1400000003', outages={ xiaomi: third(h(25), h(28)) })),
    // A channel that usually leads its peers (huawei) falls to 45% of its
    // rate from 25h on: still above the peer floor, far below its normal.
    slip: windows(campaignApp('1400000006', outages={ huawei: [{ from: h(25), to: end + 1, factor: 0.45 }] })),
    // A whole vendor down from 25h: no channel of the app delivers.
    outage: hourly(jpushApp('vendoroutage00000000000a4', { xiaomi: jpushChannels.xiaomi, huawei: jpushChannels.huawei, oppo: jpushChannels.oppo }, outages={ [c]: down(h(25)) for c in ['xiaomi', 'huawei', 'oppo'] }))
            + windows(campaignApp('1400000004', outages={ [c]: down(h(25)) for c in std.objectFields(tencentChannels) })),
  };

  // An alert as the rules must raise it: its annotations are the rule's
  // templates filled with these labels and the value as humanizePercentage
  // prints it.
  local rule(name) = [r for g in mixin.prometheusAlerts.groups for r in g.rules if std.get(r, 'alert') == name][0];
  local expect(name, vendor, app, source, window, channel, value) =
    local labels = { vendor: vendor, app: app, source: source, window: window } + (if channel == null then {} else { channel: channel });
    local fill(text) = std.foldl(
      function(t, k) std.strReplace(t, '{{ $labels.%s }}' % k, labels[k]),
      std.objectFields(labels),
      std.strReplace(text, '{{ $value | humanizePercentage }}', value)
    );
    {
      exp_labels: s.target + labels + rule(name).labels,
      exp_annotations: { [k]: fill(rule(name).annotations[k]) for k in std.objectFields(rule(name).annotations) },
    };
  local peers(vendor, app, source, window, channel, value) = expect('ImstatsPushChannelBelowPeers', vendor, app, source, window, channel, value);
  local normal(vendor, app, source, window, channel, value) = expect('ImstatsPushChannelBelowNormal', vendor, app, source, window, channel, value);
  local whole(vendor, app, source, window, value) = expect('ImstatsPushDeliveryBelowNormal', vendor, app, source, window, null, value);

  // at(t, {alertname: [expected alerts]}): every delivery alert not named
  // must be silent at t.
  local deliveryAlerts = ['ImstatsPushChannelBelowPeers', 'ImstatsPushChannelBelowNormal', 'ImstatsPushDeliveryBelowNormal'];
  local at(t, firing={}) = [
    { eval_time: '%dm' % t, alertname: a, exp_alerts: std.get(firing, a, []) }
    for a in deliveryAlerts
  ];

  local yaml(header, x) = header + std.manifestYamlDoc(x, indent_array_in_object=true, quote_keys=false);

  {
    'push_delivery_scenarios_test.yml': yaml(|||
      # Generated from mixin/cmd/generate/tests/tests.libsonnet (go run ./mixin/cmd/generate); edit that.
      # Delivery scenarios side by side, one app each: a normal day, a
      # low-volume channel at 0%%, a new install with one hour of data, one
      # channel at a third of its rate from 25h to 28h, a whole vendor down
      # from 25h. Pushes every hour (chat-message pushes every 5m), sampled
      # every %dm; rules evaluated every 7m: not 5m, as Prometheus 3 leaves a
      # sample exactly one lookback old out, and not a divisor of 1h, so that
      # no [1h] range starts exactly on a recorded sample (Prometheus 3 leaves
      # it out, 2 keeps it).
    ||| % s.step, {
      rule_files: ['../imstats-rules.yml', '../imstats-alerts.yml'],
      evaluation_interval: '7m',
      // Without an order promtool evaluates the groups in a random order,
      // and an alert reads the recording rules of this evaluation or of the
      // one before, which changes the values the annotations show.
      group_eval_order: [g.name for g in mixin.prometheusRules.groups + mixin.prometheusAlerts.groups],
      tests: [
        {
          name: 'push_delivery_scenarios',
          interval: '%dm' % s.step,
          input_series: std.flattenArrays([apps[k] for k in std.objectFields(apps)]),
          // Quiet through the normal day, the low-volume channel and the new
          // install; the drop and the outage are not yet visible at 26h.
          alert_rule_test:
            // Quiet through the normal day, the low-volume channel and the
            // new install; nothing broken is visible yet at 25h08m.
            at(h(2)) + at(h(12)) + at(h(24) + 40) + at(h(25) + 8)
            // 2h after the change: the rolling 1h windows show the drop, the
            // slip and the outage; the tracked JPush messages the outage.
            + at(h(27), {
              ImstatsPushChannelBelowPeers: [
                peers('tencent_im', '1400000003', 'tencent_push', '1h', 'huawei', '33.32%'),
                peers('tencent_im', '1400000003', 'tencent_normal_push', '1h', 'xiaomi', '27.87%'),
              ],
              ImstatsPushChannelBelowNormal: [
                normal('tencent_im', '1400000006', 'tencent_push', '1h', 'huawei', '44.53%'),
              ],
              ImstatsPushDeliveryBelowNormal: [
                whole('tencent_im', '1400000004', 'tencent_push', '1h', '0%'),
                whole('jpush', 'vendoroutage00000000000a4', 'jpush_messages', 'tracked', '0%'),
              ],
            })
            // 2h30m after: every dropped channel, on every source.
            + at(h(27) + 30, {
              ImstatsPushChannelBelowPeers: [
                peers('tencent_im', '1400000003', 'tencent_push', '1h', 'huawei', '33.76%'),
                peers('tencent_im', '1400000003', 'tencent_normal_push', '1h', 'xiaomi', '27.87%'),
                peers('jpush', 'dropchannel00000000000a3', 'jpush_messages', 'tracked', 'xiaomi', '34.14%'),
                peers('jpush', 'dropgroup000000000000g3', 'jpush_group_messages', 'tracked', 'huawei', '36.27%'),
              ],
              ImstatsPushChannelBelowNormal: [
                normal('tencent_im', '1400000006', 'tencent_push', '1h', 'huawei', '44.41%'),
              ],
              ImstatsPushDeliveryBelowNormal: [
                whole('tencent_im', '1400000004', 'tencent_push', '1h', '0%'),
                whole('jpush', 'vendoroutage00000000000a4', 'jpush_messages', 'tracked', '0%'),
              ],
            })
            // The drop ended at 28h: resolved within an hour. The slip and the
            // outage go on; the 24h windows dilute all three and stay quiet.
            + at(h(29), {
              ImstatsPushChannelBelowNormal: [
                normal('tencent_im', '1400000006', 'tencent_push', '1h', 'huawei', '44.35%'),
              ],
              ImstatsPushDeliveryBelowNormal: [
                whole('tencent_im', '1400000004', 'tencent_push', '1h', '0%'),
                whole('jpush', 'vendoroutage00000000000a4', 'jpush_messages', 'tracked', '0%'),
              ],
            })
            + at(h(30), {
              ImstatsPushChannelBelowNormal: [
                normal('tencent_im', '1400000006', 'tencent_push', '1h', 'huawei', '44.36%'),
              ],
              ImstatsPushDeliveryBelowNormal: [
                whole('tencent_im', '1400000004', 'tencent_push', '1h', '0%'),
                whole('jpush', 'vendoroutage00000000000a4', 'jpush_messages', 'tracked', '0%'),
              ],
            }),
        },
      ],
    }),

    'push_channel_rules_test.yml': yaml(|||
      # Generated from mixin/cmd/generate/tests/tests.libsonnet (go run ./mixin/cmd/generate); edit that.
      # Exact values of the recording rules the delivery alerts read. JPush
      # message m1 goes out at 0, m2 at 60m; a Tencent 24h window beside them.
    |||, {
      rule_files: ['../imstats-rules.yml'],
      evaluation_interval: '1m',
      local jp(metric, msg, channel) = '%s{job="imstats",instance="exporter:9787",app_key="k",msg_id="%s",type="notification",platform="android",channel="%s"}' % [metric, msg, channel],
      local tc(metric, eventType, platform) = '%s{job="imstats",instance="exporter:9787",sdkappid="1400000000",window="24h",event_type="%s",platform="%s"}' % [metric, eventType, platform],
      local jpushLabels(channel) = 'instance="exporter:9787", job="imstats", vendor="jpush", source="jpush_messages", app="k", window="tracked"' + (if channel == null then '' else ', channel="%s"' % channel),
      local sample(name, labels, value) = { labels: '%s{%s}' % [name, labels], value: value },
      tests: [
        {
          name: 'push_channel_rules',
          interval: '5m',
          input_series: [
            // m1: every count known from the start; deliveries rise.
            { series: jp('jpush_message_channel_sent', 'm1', 'xiaomi'), values: '200x24' },
            { series: jp('jpush_message_channel_received', 'm1', 'xiaomi'), values: '0x5 100x11 150x6' },
            { series: jp('jpush_message_channel_sent', 'm1', 'huawei'), values: '100x24' },
            { series: jp('jpush_message_channel_received', 'm1', 'huawei'), values: '0x5 80x11 90x6' },
            // m2 from 60m.
            { series: jp('jpush_message_channel_sent', 'm2', 'xiaomi'), values: '_x12 400x12' },
            { series: jp('jpush_message_channel_received', 'm2', 'xiaomi'), values: '_x12 100x5 300x6' },
            { series: jp('jpush_message_channel_sent', 'm2', 'huawei'), values: '_x12 200x12' },
            { series: jp('jpush_message_channel_received', 'm2', 'huawei'), values: '_x12 100x5 160x6' },
            // A channel without a received count is left out, not 0 %.
            { series: jp('jpush_message_channel_sent', 'm1', 'oppo'), values: '100x24' },
            // Tencent: offline channels only.
            { series: tc('tencent_im_push_window_platform_sent', 'offline', 'xiaomi'), values: '1000x24' },
            { series: tc('tencent_im_push_window_platform_delivered', 'offline', 'xiaomi'), values: '500x24' },
            { series: tc('tencent_im_push_window_platform_sent', 'online', 'unknown'), values: '1000x24' },
            { series: tc('tencent_im_push_window_platform_delivered', 'online', 'unknown'), values: '900x24' },
            // Chat-message pushes and a JPush group app.
            { series: 'tencent_im_normal_push_window_platform_sent{job="imstats",instance="exporter:9787",sdkappid="1400000000",window="24h",platform="huawei"}', values: '400x24' },
            { series: 'tencent_im_normal_push_window_platform_delivered{job="imstats",instance="exporter:9787",sdkappid="1400000000",window="24h",platform="huawei"}', values: '300x24' },
            { series: 'jpush_group_message_channel_sent{job="imstats",instance="exporter:9787",group_key="g",group_msg_id="bsp54sn8bpn8hc3etq40",type="notification",platform="android",channel="huawei"}', values: '200x24' },
            { series: 'jpush_group_message_channel_received{job="imstats",instance="exporter:9787",group_key="g",group_msg_id="bsp54sn8bpn8hc3etq40",type="notification",platform="android",channel="huawei"}', values: '50x24' },
          ],
          promql_expr_test: [
            {
              expr: 'sdkappid_window_platform:tencent_im_normal_push_window_platform_delivered_per_sent:ratio',
              eval_time: '50m',
              exp_samples: [sample('sdkappid_window_platform:tencent_im_normal_push_window_platform_delivered_per_sent:ratio', 'instance="exporter:9787", job="imstats", sdkappid="1400000000", window="24h", platform="huawei"', 0.75)],
            },
            {
              expr: 'group_key_type_platform_channel:jpush_group_message_channel_received_per_sent:ratio',
              eval_time: '50m',
              exp_samples: [sample('group_key_type_platform_channel:jpush_group_message_channel_received_per_sent:ratio', 'instance="exporter:9787", job="imstats", group_key="g", type="notification", platform="android", channel="huawei"', 0.25)],
            },
            // At 50m every message is newer than the 1h flow window: whole counts.
            {
              expr: 'imstats:push_channel_sent:sum',
              eval_time: '50m',
              exp_samples: [
                sample('imstats:push_channel_sent:sum', jpushLabels('xiaomi'), 200),
                sample('imstats:push_channel_sent:sum', jpushLabels('huawei'), 100),
                sample('imstats:push_channel_sent:sum', 'instance="exporter:9787", job="imstats", vendor="tencent_im", source="tencent_normal_push", app="1400000000", window="24h", channel="huawei"', 400),
                sample('imstats:push_channel_sent:sum', 'instance="exporter:9787", job="imstats", vendor="jpush", source="jpush_group_messages", app="g", window="tracked", channel="huawei"', 200),
                sample('imstats:push_channel_sent:sum', 'instance="exporter:9787", job="imstats", vendor="tencent_im", source="tencent_push", app="1400000000", window="24h", channel="xiaomi"', 1000),
              ],
            },
            {
              expr: 'imstats:push_channel_delivered:sum{source="jpush_messages"}',
              eval_time: '50m',
              exp_samples: [
                sample('imstats:push_channel_delivered:sum', jpushLabels('xiaomi'), 100),
                sample('imstats:push_channel_delivered:sum', jpushLabels('huawei'), 80),
              ],
            },
            // At 100m: m1 adds what it sent and delivered since 40m, m2 all.
            {
              expr: 'imstats:push_channel_delivered:sum{source="jpush_messages"}',
              eval_time: '100m',
              exp_samples: [
                sample('imstats:push_channel_delivered:sum', jpushLabels('xiaomi'), 350),
                sample('imstats:push_channel_delivered:sum', jpushLabels('huawei'), 170),
              ],
            },
            {
              expr: 'imstats:push_app_sent:sum{source="jpush_messages"}',
              eval_time: '100m',
              exp_samples: [sample('imstats:push_app_sent:sum', jpushLabels(null), 600)],
            },
            {
              expr: 'imstats:push_app_delivered:sum{source="jpush_messages"}',
              eval_time: '100m',
              exp_samples: [sample('imstats:push_app_delivered:sum', jpushLabels(null), 520)],
            },
            {
              expr: 'imstats:push_app_reach:ratio{source="jpush_messages"}',
              eval_time: '50m',
              exp_samples: [sample('imstats:push_app_reach:ratio', jpushLabels(null), 0.6)],
            },
            {
              expr: 'imstats:push_channel_reach:ratio{source="jpush_messages"}',
              eval_time: '100m',
              exp_samples: [
                sample('imstats:push_channel_reach:ratio', jpushLabels('xiaomi'), 0.875),
                sample('imstats:push_channel_reach:ratio', jpushLabels('huawei'), 0.85),
              ],
            },
            {
              expr: 'imstats:push_channel_peers_sent:sum{source="jpush_messages"}',
              eval_time: '50m',
              exp_samples: [
                sample('imstats:push_channel_peers_sent:sum', jpushLabels('xiaomi'), 100),
                sample('imstats:push_channel_peers_sent:sum', jpushLabels('huawei'), 200),
              ],
            },
            {
              expr: 'imstats:push_channel_peers_reach:ratio{source="jpush_messages"}',
              eval_time: '50m',
              exp_samples: [
                sample('imstats:push_channel_peers_reach:ratio', jpushLabels('xiaomi'), 0.8),
                sample('imstats:push_channel_peers_reach:ratio', jpushLabels('huawei'), 0.5),
              ],
            },
            {
              expr: 'imstats:push_channel_reach_vs_peers:ratio{source="jpush_messages"}',
              eval_time: '50m',
              exp_samples: [
                sample('imstats:push_channel_reach_vs_peers:ratio', jpushLabels('xiaomi'), 0.625),
                sample('imstats:push_channel_reach_vs_peers:ratio', jpushLabels('huawei'), 1.6),
              ],
            },
          ],
        },
      ],
    }),

    'exporter_up_test.yml': yaml(|||
      # Generated from mixin/cmd/generate/tests/tests.libsonnet (go run ./mixin/cmd/generate); edit that.
      # ImstatsExporterDown: the target scrape fails, or the job is gone.
    |||, {
      rule_files: ['../imstats-alerts.yml'],
      evaluation_interval: '1m',
      local downAlert(labels) = {
        exp_labels: labels + rule('ImstatsExporterDown').labels,
        exp_annotations: {
          summary: if std.objectHas(labels, 'instance') then 'imstats_exporter on %s is down' % labels.instance else 'imstats_exporter is down',
          description: 'Prometheus cannot scrape imstats_exporter (%s)%s: no push statistics are collected and the delivery alerts are blind.' % [
            config.metricSelector,
            if std.objectHas(labels, 'instance') then ' on ' + labels.instance else '',
          ],
          runbook_url: runbook('ImstatsExporterDown'),
        },
      },
      tests: [
        {
          name: 'exporter_scrape_fails',
          interval: '1m',
          // Up for 10m, then down; another job's target is not ours.
          input_series: [
            { series: 'up{job="imstats",instance="exporter:9787"}', values: '1x9 0x20' },
            { series: 'up{job="node",instance="host:9100"}', values: '0x30' },
          ],
          alert_rule_test: [
            { eval_time: '12m', alertname: 'ImstatsExporterDown', exp_alerts: [] },
            { eval_time: '16m', alertname: 'ImstatsExporterDown', exp_alerts: [downAlert(s.target)] },
          ],
        },
        {
          name: 'exporter_job_absent',
          interval: '1m',
          input_series: [
            { series: 'up{job="node",instance="host:9100"}', values: '1x30' },
          ],
          alert_rule_test: [
            { eval_time: '4m', alertname: 'ImstatsExporterDown', exp_alerts: [] },
            { eval_time: '6m', alertname: 'ImstatsExporterDown', exp_alerts: [downAlert({ job: 'imstats' })] },
          ],
        },
      ],
    }),
  }
