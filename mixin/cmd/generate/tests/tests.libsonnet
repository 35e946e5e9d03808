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

  // Tencent push tasks tracked by ID, as the exporter exports them.
  local taskApp(sdkappid, channels=tencentChannels, outages={}) = {
    metrics: ['tencent_im_push_task_platform_sent', 'tencent_im_push_task_platform_delivered'],
    idLabel: 'task_id',
    idPrefix: sdkappid + '_',
    labels: { sdkappid: sdkappid, event_type: 'offline' },
    channelLabel: 'platform',
    channels: channels,
    outages: outages,
  };

  // Pushes every hour from `from`: tracked JPush (group) messages and
  // Tencent tasks, and Tencent all-member pushes seen through the default
  // rolling windows, 1h and 24h. Chat-message pushes go out every 5m.
  local hourly(app, from=0) = s.trackedPushes(app, from, 60, end);
  local windows(app, from=0) = s.windowPushes(app, 60, '1h', from, 60, end) + s.windowPushes(app, h(24), '24h', from, 60, end);
  local chat(app, from=0) = s.windowPushes(app, 60, '1h', from, 5, end) + s.windowPushes(app, h(24), '24h', from, 5, end);

  local third(from, to) = [{ from: from, to: to, factor: 1 / 3 }];
  local down(from) = [{ from: from, to: end + 1, factor: 0 }];

  // Tencent's push loss analysis of some of these apps, and the
  // loss_reasons annotation the delivery alerts show from it.
  local losses = (import 'delivery_losses.libsonnet')(end);

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
      exp_annotations: { [k]: fill(rule(name).annotations[k]) for k in std.objectFields(rule(name).annotations) if k != 'loss_reasons' }
                       + (if std.objectHas(rule(name).annotations, 'loss_reasons') then { loss_reasons: losses.reasons(vendor, app, source, window, channel) } else {}),
    };
  local stopped(vendor, app, source, window, channel, value) = expect('ImstatsPushChannelStopped', vendor, app, source, window, channel, value);
  local peers(vendor, app, source, window, channel, value) = expect('ImstatsPushChannelBelowPeers', vendor, app, source, window, channel, value);
  local normal(vendor, app, source, window, channel, value) = expect('ImstatsPushChannelBelowNormal', vendor, app, source, window, channel, value);
  local whole(vendor, app, source, window, value) = expect('ImstatsPushDeliveryBelowNormal', vendor, app, source, window, null, value);

  // at(t, {alertname: [expected alerts]}): every delivery alert not named
  // must be silent at t.
  local deliveryAlerts = ['ImstatsPushChannelStopped', 'ImstatsPushChannelBelowPeers', 'ImstatsPushChannelBelowNormal', 'ImstatsPushDeliveryBelowNormal'];
  local at(t, firing={}) = [
    { eval_time: '%dm' % t, alertname: a, exp_alerts: std.get(firing, a, []) }
    for a in deliveryAlerts
  ];
  local quiet(times) = std.flattenArrays([at(t) for t in times]);

  // The scenarios, one promtool test each (apps are independent series).
  // The names give when each alert fires; docs/runbooks.md has the same
  // table. Every quiet scenario is checked through the whole timeline.
  local quietTimes = [h(2), h(12), h(24) + 40, h(25) + 8, h(26) + 1, h(27), h(28) - 2, h(29) + 3, h(30) - 1];
  local scenarios = [
    {
      name: 'normal day: nothing fires',
      // Pushes every hour, each starting at a low delivered ratio and
      // settling over hours.
      input: hourly(jpushApp('normal0000000000000000a1')) + hourly(taskApp('1400000001')) + windows(campaignApp('1400000001')) + chat(chatApp('1400000001')),
      checks: quiet(quietTimes),
    },
    {
      name: 'low volume: a channel with 2 sends a push that never delivers, nothing fires',
      input: hourly(jpushApp('lowvolume000000000000a2', { xiaomi: jpushChannels.xiaomi, huawei: jpushChannels.huawei, meizu: { sent: 2, rate: 0, settle: 60 } }))
             + windows(campaignApp('1400000002', tencentChannels { meizu: { sent: 2, rate: 0, settle: 60 } })),
      checks: quiet(quietTimes),
    },
    {
      name: 'new install: an hour of fresh pushes, nothing fires',
      input: hourly(jpushApp('freshinstall0000000000a5'), from=h(29)) + hourly(taskApp('1400000005'), from=h(29))
             + windows(campaignApp('1400000005'), from=h(29)) + chat(chatApp('1400000005'), from=h(29)),
      checks: quiet([h(29) + 10, h(29) + 31, h(29) + 45, h(30) - 1]),
    },
    {
      name: 'a channel that always delivers a third of its peers: nothing fires',
      input: hourly(jpushApp('lowpeer00000000000000a9', { xiaomi: jpushChannels.xiaomi, huawei: jpushChannels.huawei, oppo: jpushChannels.oppo { rate: 0.28 } }))
             + windows(campaignApp('1400000009', tencentChannels { vivo+: { rate: 0.28 } })),
      checks: quiet(quietTimes),
    },
  ] + [
    // Something breaks. For each alert, the first evaluation (every 7m) at
    // which it fires, with every delivery alert of the app at that time,
    // and the evaluation before, when it has not fired yet: the times of
    // the names and of docs/runbooks.md, "What fires when".
    {
      name: 'a channel stops at 26h, with a day of history: ImstatsPushChannelStopped at +33m on tracked JPush messages, tracked Tencent tasks and the all-member 1h window, at +82m on the chat-message 1h window; ImstatsPushChannelBelowPeers at +47m (all-member 1h window), +61m (chat-message 1h window), +75m (tracked)',
      input: hourly(jpushApp('stopped00000000000000a7', outages={ xiaomi: down(h(26)) }))
             + hourly(taskApp('1400000007', outages={ huawei: down(h(26)) }))
             + windows(campaignApp('1400000007', outages={ huawei: down(h(26)) }))
             + chat(chatApp('1400000007', outages={ xiaomi: down(h(26)) })),
      checks: quiet([h(24) + 40, h(26) + 5])
             + at(h(26) + 26)
             + at(h(26) + 33, { ImstatsPushChannelStopped: [stopped('jpush', 'stopped00000000000000a7', 'jpush_messages', 'tracked', 'xiaomi', '0%'), stopped('tencent_im', '1400000007', 'tencent_push', '1h', 'huawei', '0%'), stopped('tencent_im', '1400000007', 'tencent_push', 'tracked', 'huawei', '0%')] })
             + at(h(26) + 40, { ImstatsPushChannelStopped: [stopped('jpush', 'stopped00000000000000a7', 'jpush_messages', 'tracked', 'xiaomi', '0%'), stopped('tencent_im', '1400000007', 'tencent_push', '1h', 'huawei', '0%'), stopped('tencent_im', '1400000007', 'tencent_push', 'tracked', 'huawei', '0%')] })
             + at(h(26) + 47, { ImstatsPushChannelBelowPeers: [peers('tencent_im', '1400000007', 'tencent_push', '1h', 'huawei', '0%')], ImstatsPushChannelStopped: [stopped('jpush', 'stopped00000000000000a7', 'jpush_messages', 'tracked', 'xiaomi', '0%'), stopped('tencent_im', '1400000007', 'tencent_push', '1h', 'huawei', '0%'), stopped('tencent_im', '1400000007', 'tencent_push', 'tracked', 'huawei', '0%')] })
             + at(h(26) + 54, { ImstatsPushChannelBelowPeers: [peers('tencent_im', '1400000007', 'tencent_push', '1h', 'huawei', '0%')], ImstatsPushChannelStopped: [stopped('jpush', 'stopped00000000000000a7', 'jpush_messages', 'tracked', 'xiaomi', '0%'), stopped('tencent_im', '1400000007', 'tencent_push', '1h', 'huawei', '0%'), stopped('tencent_im', '1400000007', 'tencent_push', 'tracked', 'huawei', '0%')] })
             + at(h(27) + 1, { ImstatsPushChannelBelowPeers: [peers('tencent_im', '1400000007', 'tencent_normal_push', '1h', 'xiaomi', '8.286%'), peers('tencent_im', '1400000007', 'tencent_push', '1h', 'huawei', '0%')], ImstatsPushChannelStopped: [stopped('jpush', 'stopped00000000000000a7', 'jpush_messages', 'tracked', 'xiaomi', '0%'), stopped('tencent_im', '1400000007', 'tencent_push', '1h', 'huawei', '0%'), stopped('tencent_im', '1400000007', 'tencent_push', 'tracked', 'huawei', '0%')] })
             + at(h(27) + 8, { ImstatsPushChannelBelowPeers: [peers('tencent_im', '1400000007', 'tencent_normal_push', '1h', 'xiaomi', '3.164%'), peers('tencent_im', '1400000007', 'tencent_push', '1h', 'huawei', '0%')], ImstatsPushChannelStopped: [stopped('jpush', 'stopped00000000000000a7', 'jpush_messages', 'tracked', 'xiaomi', '0%'), stopped('tencent_im', '1400000007', 'tencent_push', '1h', 'huawei', '0%'), stopped('tencent_im', '1400000007', 'tencent_push', 'tracked', 'huawei', '0%')] })
             + at(h(27) + 15, { ImstatsPushChannelBelowPeers: [peers('jpush', 'stopped00000000000000a7', 'jpush_messages', 'tracked', 'xiaomi', '5.674%'), peers('tencent_im', '1400000007', 'tencent_normal_push', '1h', 'xiaomi', '1.055%'), peers('tencent_im', '1400000007', 'tencent_push', '1h', 'huawei', '0%'), peers('tencent_im', '1400000007', 'tencent_push', 'tracked', 'huawei', '5.06%')], ImstatsPushChannelStopped: [stopped('jpush', 'stopped00000000000000a7', 'jpush_messages', 'tracked', 'xiaomi', '0%'), stopped('tencent_im', '1400000007', 'tencent_push', '1h', 'huawei', '0%'), stopped('tencent_im', '1400000007', 'tencent_push', 'tracked', 'huawei', '0%')] })
             + at(h(27) + 22, { ImstatsPushChannelBelowPeers: [peers('jpush', 'stopped00000000000000a7', 'jpush_messages', 'tracked', 'xiaomi', '1.328%'), peers('tencent_im', '1400000007', 'tencent_normal_push', '1h', 'xiaomi', '0%'), peers('tencent_im', '1400000007', 'tencent_push', '1h', 'huawei', '0%'), peers('tencent_im', '1400000007', 'tencent_push', 'tracked', 'huawei', '1.139%')], ImstatsPushChannelStopped: [stopped('jpush', 'stopped00000000000000a7', 'jpush_messages', 'tracked', 'xiaomi', '0%'), stopped('tencent_im', '1400000007', 'tencent_normal_push', '1h', 'xiaomi', '0%'), stopped('tencent_im', '1400000007', 'tencent_push', '1h', 'huawei', '0%'), stopped('tencent_im', '1400000007', 'tencent_push', 'tracked', 'huawei', '0%')] }),
    },
    {
      name: 'a channel stops at 28h on a new install (data from 27h): ImstatsPushChannelStopped at +34m on tracked JPush messages, tracked Tencent tasks and the all-member 1h window, at +83m on the chat-message 1h window; ImstatsPushChannelBelowPeers at +55m (all-member 1h window), +76m (chat-message 1h window), +83m (tracked)',
      input: hourly(jpushApp('freshstop0000000000000a8', outages={ xiaomi: down(h(28)) }), from=h(27))
             + hourly(taskApp('1400000008', outages={ huawei: down(h(28)) }), from=h(27))
             + windows(campaignApp('1400000008', outages={ huawei: down(h(28)) }), from=h(27))
             + chat(chatApp('1400000008', outages={ xiaomi: down(h(28)) }), from=h(27)),
      checks: quiet([h(27) + 10, h(28) + 5])
             + at(h(28) + 27)
             + at(h(28) + 34, { ImstatsPushChannelStopped: [stopped('jpush', 'freshstop0000000000000a8', 'jpush_messages', 'tracked', 'xiaomi', '0%'), stopped('tencent_im', '1400000008', 'tencent_push', '1h', 'huawei', '0%'), stopped('tencent_im', '1400000008', 'tencent_push', 'tracked', 'huawei', '0%')] })
             + at(h(28) + 48, { ImstatsPushChannelStopped: [stopped('jpush', 'freshstop0000000000000a8', 'jpush_messages', 'tracked', 'xiaomi', '0%'), stopped('tencent_im', '1400000008', 'tencent_push', '1h', 'huawei', '0%'), stopped('tencent_im', '1400000008', 'tencent_push', 'tracked', 'huawei', '0%')] })
             + at(h(28) + 55, { ImstatsPushChannelBelowPeers: [peers('tencent_im', '1400000008', 'tencent_push', '1h', 'huawei', '0%')], ImstatsPushChannelStopped: [stopped('jpush', 'freshstop0000000000000a8', 'jpush_messages', 'tracked', 'xiaomi', '0%'), stopped('tencent_im', '1400000008', 'tencent_push', '1h', 'huawei', '0%'), stopped('tencent_im', '1400000008', 'tencent_push', 'tracked', 'huawei', '0%')] })
             + at(h(29) + 9, { ImstatsPushChannelBelowPeers: [peers('tencent_im', '1400000008', 'tencent_push', '1h', 'huawei', '0%')], ImstatsPushChannelStopped: [stopped('jpush', 'freshstop0000000000000a8', 'jpush_messages', 'tracked', 'xiaomi', '0%'), stopped('tencent_im', '1400000008', 'tencent_push', '1h', 'huawei', '0%'), stopped('tencent_im', '1400000008', 'tencent_push', 'tracked', 'huawei', '0%')] })
             + at(h(29) + 16, { ImstatsPushChannelBelowPeers: [peers('tencent_im', '1400000008', 'tencent_normal_push', '1h', 'xiaomi', '1.356%'), peers('tencent_im', '1400000008', 'tencent_push', '1h', 'huawei', '0%')], ImstatsPushChannelStopped: [stopped('jpush', 'freshstop0000000000000a8', 'jpush_messages', 'tracked', 'xiaomi', '0%'), stopped('tencent_im', '1400000008', 'tencent_push', '1h', 'huawei', '0%'), stopped('tencent_im', '1400000008', 'tencent_push', 'tracked', 'huawei', '0%')] })
             + at(h(29) + 23, { ImstatsPushChannelBelowPeers: [peers('jpush', 'freshstop0000000000000a8', 'jpush_messages', 'tracked', 'xiaomi', '1.813%'), peers('tencent_im', '1400000008', 'tencent_normal_push', '1h', 'xiaomi', '0.3013%'), peers('tencent_im', '1400000008', 'tencent_push', '1h', 'huawei', '0%'), peers('tencent_im', '1400000008', 'tencent_push', 'tracked', 'huawei', '2.231%')], ImstatsPushChannelStopped: [stopped('jpush', 'freshstop0000000000000a8', 'jpush_messages', 'tracked', 'xiaomi', '0%'), stopped('tencent_im', '1400000008', 'tencent_normal_push', '1h', 'xiaomi', '0%'), stopped('tencent_im', '1400000008', 'tencent_push', '1h', 'huawei', '0%'), stopped('tencent_im', '1400000008', 'tencent_push', 'tracked', 'huawei', '0%')] }),
    },
    {
      // What the default push.windows, [1h, 24h], show without any
      // tracked task: the 24h window dilutes the drop and stays quiet.
      name: 'no task tracked, rolling windows only: a channel at a third of its rate from 25h to 29h, with a day of history: ImstatsPushChannelBelowPeers at +60m (all-member 1h window), +81m (chat-message 1h window), never in 24h; resolved by 29h23m',
      input: windows(campaignApp('1400000003', outages={ huawei: third(h(25), h(29)) }))
             + chat(chatApp('1400000003', outages={ xiaomi: third(h(25), h(29)) }))
             + losses.seriesOf('1400000003'),
      checks: quiet([h(24) + 40, h(25) + 8])
             + at(h(25) + 53)
             + at(h(26), { ImstatsPushChannelBelowPeers: [peers('tencent_im', '1400000003', 'tencent_push', '1h', 'huawei', '33.96%')] })
             + at(h(26) + 14, { ImstatsPushChannelBelowPeers: [peers('tencent_im', '1400000003', 'tencent_push', '1h', 'huawei', '33.23%')] })
             + at(h(26) + 21, { ImstatsPushChannelBelowPeers: [peers('tencent_im', '1400000003', 'tencent_normal_push', '1h', 'xiaomi', '28.17%'), peers('tencent_im', '1400000003', 'tencent_push', '1h', 'huawei', '32.81%')] })
             + at(h(29) + 23),
    },
    {
      name: 'tracked messages and tasks: a channel at a third of its rate from 25h to 29h, with a day of history: ImstatsPushChannelBelowPeers at +95m (JPush messages), +102m (JPush group messages, Tencent tasks); resolved by 29h23m',
      input: hourly(jpushApp('dropchannel00000000000a3', outages={ xiaomi: third(h(25), h(29)) }))
             + hourly(groupApp('dropgroup000000000000g3', channels={ xiaomi: jpushChannels.xiaomi, huawei: jpushChannels.huawei, oppo: jpushChannels.oppo }, outages={ huawei: third(h(25), h(29)) }))
             + hourly(taskApp('1400000010', outages={ huawei: third(h(25), h(29)) })),
      checks: quiet([h(24) + 40, h(25) + 8])
             + at(h(26) + 28)
             + at(h(26) + 35, { ImstatsPushChannelBelowPeers: [peers('jpush', 'dropchannel00000000000a3', 'jpush_messages', 'tracked', 'xiaomi', '34.1%')] })
             + at(h(26) + 42, { ImstatsPushChannelBelowPeers: [peers('jpush', 'dropchannel00000000000a3', 'jpush_messages', 'tracked', 'xiaomi', '34.16%'), peers('jpush', 'dropgroup000000000000g3', 'jpush_group_messages', 'tracked', 'huawei', '36.3%'), peers('tencent_im', '1400000010', 'tencent_push', 'tracked', 'huawei', '36.69%')] })
             + at(h(29) + 23),
    },
    {
      // A channel that usually leads its peers (huawei) falls to 45% of
      // its rate: still above the peer floor, far below its normal.
      name: 'a channel falls to 45% of its rate from 25h, with a day of history: ImstatsPushChannelBelowNormal at +74m (all-member 1h window)',
      input: windows(campaignApp('1400000006', outages={ huawei: [{ from: h(25), to: end + 1, factor: 0.45 }] })),
      checks: quiet([h(24) + 40, h(25) + 8])
             + at(h(26) + 7)
             + at(h(26) + 14, { ImstatsPushChannelBelowNormal: [normal('tencent_im', '1400000006', 'tencent_push', '1h', 'huawei', '44.83%')] }),
    },
    {
      name: 'a whole vendor down from 25h: ImstatsPushDeliveryBelowNormal at +67m (all-member 1h window), +102m (tracked JPush messages)',
      input: hourly(jpushApp('vendoroutage00000000000a4', { xiaomi: jpushChannels.xiaomi, huawei: jpushChannels.huawei, oppo: jpushChannels.oppo }, outages={ [c]: down(h(25)) for c in ['xiaomi', 'huawei', 'oppo'] }))
             + windows(campaignApp('1400000004', outages={ [c]: down(h(25)) for c in std.objectFields(tencentChannels) }))
             + losses.seriesOf('1400000004'),
      checks: quiet([h(24) + 40, h(25) + 8])
             + at(h(26))
             + at(h(26) + 7, { ImstatsPushDeliveryBelowNormal: [whole('tencent_im', '1400000004', 'tencent_push', '1h', '0%')] })
             + at(h(26) + 35, { ImstatsPushDeliveryBelowNormal: [whole('tencent_im', '1400000004', 'tencent_push', '1h', '0%')] })
             + at(h(26) + 42, { ImstatsPushDeliveryBelowNormal: [whole('jpush', 'vendoroutage00000000000a4', 'jpush_messages', 'tracked', '0%'), whole('tencent_im', '1400000004', 'tencent_push', '1h', '0%')] }),
    },
  ];

  local yaml(header, x) = header + std.manifestYamlDoc(x, indent_array_in_object=true, quote_keys=false);

  {
    'push_delivery_scenarios_test.yml': yaml(|||
      # Generated from mixin/cmd/generate/tests/tests.libsonnet (go run ./mixin/cmd/generate); edit that.
      # Delivery scenarios, one test each, with the time each alert fires in
      # the test's name (docs/runbooks.md, "What fires when"). Pushes every
      # hour (chat-message pushes every 5m), sampled every %dm; rules
      # evaluated every 7m: not 5m, as Prometheus 3 leaves a sample exactly
      # one lookback old out, and not a divisor of 1h, so that no [1h] range
      # starts exactly on a recorded sample (Prometheus 3 leaves it out, 2
      # keeps it). An alert that fires at t is checked silent at t - 7m.
    ||| % s.step, {
      rule_files: ['../imstats-rules.yml', '../imstats-alerts.yml'],
      evaluation_interval: '7m',
      // Without an order promtool evaluates the groups in a random order,
      // and an alert reads the recording rules of this evaluation or of the
      // one before, which changes the values the annotations show.
      group_eval_order: [g.name for g in mixin.prometheusRules.groups + mixin.prometheusAlerts.groups],
      tests: [
        {
          name: sc.name,
          interval: '%dm' % s.step,
          input_series: sc.input,
          alert_rule_test: sc.checks,
        }
        for sc in scenarios
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
            // At 95m, the last 10m: m1 adds 50 on xiaomi and 10 on huawei,
            // m2 200 and 60; the group message delivered nothing new.
            {
              expr: 'imstats:push_channel_recent_delivered:sum',
              eval_time: '95m',
              exp_samples: [
                sample('imstats:push_channel_recent_delivered:sum', jpushLabels('xiaomi'), 250),
                sample('imstats:push_channel_recent_delivered:sum', jpushLabels('huawei'), 70),
                sample('imstats:push_channel_recent_delivered:sum', 'instance="exporter:9787", job="imstats", vendor="jpush", source="jpush_group_messages", app="g", window="tracked", channel="huawei"', 0),
              ],
            },
            // Per push sent in the last hour (m2 only: 400 and 200), each
            // channel's pace against the other's; the group app's only
            // channel has no peers.
            {
              expr: 'imstats:push_channel_recent_vs_peers:ratio',
              eval_time: '95m',
              exp_samples: [
                sample('imstats:push_channel_recent_vs_peers:ratio', jpushLabels('xiaomi'), (250 / 400) / (70 / 200)),
                sample('imstats:push_channel_recent_vs_peers:ratio', jpushLabels('huawei'), (70 / 200) / (250 / 400)),
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
