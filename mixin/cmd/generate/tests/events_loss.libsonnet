// The rule tests of the live push events (Tencent push callbacks) and of
// the push loss reasons, as scenarios: which channel of which app does what,
// and which alerts must (or must not) fire, by when.
local s = import 'scenario.libsonnet';

function(mixin)
  local config = mixin._config;
  local runbook(name) = config.runbookURLBase + std.asciiLower(name);
  local rule(name) = [r for g in mixin.prometheusAlerts.groups for r in g.rules if std.get(r, 'alert') == name][0];
  local ev = mixin.pushEventsRules;
  local loss = mixin.pushLossRules;
  local yaml(header, x) = header + std.manifestYamlDoc(x, indent_array_in_object=true, quote_keys=false);
  local labelText(l) = std.join(', ', ['%s="%s"' % [k, l[k]] for k in std.objectFields(l)]);
  local sample(name, labels, value) = { labels: '%s{%s}' % [name, labelText(s.target + labels)], value: value };

  // counter(perMinute, end) renders a counter sampled every minute from 0
  // to end whose increase in minute t is perMinute(t).
  local counter(perMinute, end) =
    std.join(' ', std.map(function(v) '%d' % v, std.foldl(
      function(acc, t) acc + [acc[std.length(acc) - 1] + perMinute(t)],
      std.range(1, end),
      [0],
    )));
  // from(t0, before, after): before until minute t0, after from it.
  local from(t0, before, after) = function(t) if t <= t0 then before else after;

  // The events of one channel: ok and failed (code) events per minute.
  local events(sdkappid, command, eventType, platform, ok, failed, code, stage='1', end=120) = [
    s.series('tencent_im_push_events_total', s.target + { sdkappid: sdkappid, command: command, event_type: eventType, platform: platform, stage: stage, code: '0' }, counter(ok, end)),
  ] + if code == null then [] else [
    s.series('tencent_im_push_events_total', s.target + { sdkappid: sdkappid, command: command, event_type: eventType, platform: platform, stage: stage, code: code }, counter(failed, end)),
  ];
  local constant(v) = function(t) v;

  local eventsFailing(sdkappid, command, platform, value, codes) = {
    exp_labels: s.target + { sdkappid: sdkappid, command: command, platform: platform } + rule('ImstatsPushEventsFailing').labels,
    exp_annotations: {
      summary: '%s of the push events of channel %s of Tencent IM app %s (%s) fail' % [value, platform, sdkappid, command],
      description: 'Over the last 5 minutes, %s of the %s push events Tencent reported for channel %s of app %s (push callbacks received by %s) carried an error code, with at least %d events, and it has lasted 5 minutes. Top error codes: %s.' % [value, command, platform, sdkappid, s.target.instance, config.pushEventsMin, codes],
      runbook_url: runbook('ImstatsPushEventsFailing'),
    },
  };

  local lossDominant(app, source, window, channel, stage, code, reason, value) = {
    exp_labels: s.target + { vendor: 'tencent_im', app: app, source: source, window: window, channel: channel, stage: stage, code: code } + rule('ImstatsPushLossDominantReason').labels,
    exp_annotations: {
      summary: 'Push channel %s of Tencent IM app %s loses %s of its pushes to one reason: %s "%s" (%s)' % [channel, app, value, code, reason, stage],
      description: "In Tencent's push loss analysis of the %s pushes of app %s over the last %s, code %s alone accounts for %s of what channel %s was to deliver (TotalCount, at least %d pushes), and it has lasted 30 minutes. %s" % [
        source,
        app,
        window,
        code,
        value,
        channel,
        config.pushLossMinTarget,
        if stage == 'not_sent' then "These pushes were never handed to the vendor (ReadyToSendLoss): the app's push certificate or key for this vendor is missing, expired or wrong, or the devices never uploaded a token."
        else "The vendor refused or dropped these pushes after they were sent (PostSendDeliveredLoss): device tokens invalid or unregistered, or the vendor's quota or rules.",
      ],
      runbook_url: runbook('ImstatsPushLossDominantReason'),
    },
  };

  // Loss analysis series, constant or changing at a minute, every 5m.
  local lossEnd = 180;
  local steps(v0, t0, v1) = std.join(' ', ['%d' % (if t < t0 then v0 else v1) for t in s.times(0, lossEnd + 1, 5)]);
  local windowLoss(app, window, platform, stage, code, values) =
    s.series('tencent_im_push_window_platform_loss', s.target + { sdkappid: app, window: window, stage: stage, event_type: 'offline', platform: platform, code: code }, values);
  local windowTarget(app, window, platform, values) =
    s.series('tencent_im_push_window_platform_target', s.target + { sdkappid: app, window: window, event_type: 'offline', platform: platform }, values);
  local reason(app, code, text) = s.series('tencent_im_push_loss_reason_info', s.target + { sdkappid: app, code: code, reason: text }, steps(1, 0, 1));

  {
    'push_events_loss_test.yml': yaml(|||
      # Generated from mixin/cmd/generate/tests/events_loss.libsonnet (go run ./mixin/cmd/generate); edit that.
      # Live push events (Tencent push callbacks): a channel whose events
      # start failing at 60m, a channel with normal background failures, a
      # low-volume channel failing, chat-message pushes failing. Push loss
      # analysis: a channel whose losses jump to one reason at 60m, normal
      # background losses, a low-volume channel, losses past the code cap,
      # chat-message pushes lost before sending.
    |||, {
      rule_files: ['../imstats-rules.yml', '../imstats-alerts.yml'],
      evaluation_interval: '1m',
      group_eval_order: [g.name for g in mixin.prometheusRules.groups + mixin.prometheusAlerts.groups],
      tests: [
        {
          name: 'push_events',
          interval: '1m',
          input_series:
            // huawei: 20% of the events fail until 60m, 90% from then to
            // 90m, 20% again after.
            events('1400000101', 'all_member_push', 'offline', 'huawei', function(t) if t <= 60 || t > 90 then 240 else 30, function(t) if t <= 60 || t > 90 then 60 else 270, '80300007')
            // xiaomi: 40% fail all along, normal for some user bases.
            + events('1400000101', 'all_member_push', 'offline', 'xiaomi', constant(180), constant(120), '1')
            // meizu: every event fails from 60m, but twelve a minute.
            + events('1400000101', 'all_member_push', 'offline', 'meizu', from(60, 12, 0), from(60, 0, 12), '1')
            // apns: events of two stages, none failing.
            + events('1400000101', 'all_member_push', 'offline', 'apns', constant(60), null, null)
            + events('1400000101', 'all_member_push', 'offline', 'apns', constant(60), null, null, stage='2')
            // Chat-message pushes on oppo: every one fails from 60m.
            + events('1400000102', 'offline_push', 'c2c', 'oppo', from(60, 30, 0), from(60, 0, 30), '-2'),
          promql_expr_test: [
            {
              expr: ev.events,
              eval_time: '30m',
              exp_samples: [
                sample(ev.events, { sdkappid: '1400000101', command: 'all_member_push', platform: p }, v)
                for p in ['apns', 'huawei', 'xiaomi', 'meizu']
                for v in [{ apns: 2, huawei: 5, xiaomi: 5, meizu: 0.2 }[p]]
              ] + [sample(ev.events, { sdkappid: '1400000102', command: 'offline_push', platform: 'oppo' }, 0.5)],
            },
            {
              expr: ev.failed,
              eval_time: '30m',
              exp_samples: [
                sample(ev.failed, { sdkappid: '1400000101', command: 'all_member_push', platform: 'huawei' }, 1),
                sample(ev.failed, { sdkappid: '1400000101', command: 'all_member_push', platform: 'xiaomi' }, 2),
                sample(ev.failed, { sdkappid: '1400000101', command: 'all_member_push', platform: 'meizu' }, 0),
                sample(ev.failed, { sdkappid: '1400000102', command: 'offline_push', platform: 'oppo' }, 0),
              ],
            },
            // apns has no failed series at all: 0, not missing.
            {
              expr: ev.failedShare,
              eval_time: '30m',
              exp_samples: [
                sample(ev.failedShare, { sdkappid: '1400000101', command: 'all_member_push', platform: 'apns' }, 0),
                sample(ev.failedShare, { sdkappid: '1400000101', command: 'all_member_push', platform: 'huawei' }, 0.2),
                sample(ev.failedShare, { sdkappid: '1400000101', command: 'all_member_push', platform: 'xiaomi' }, 0.4),
                sample(ev.failedShare, { sdkappid: '1400000101', command: 'all_member_push', platform: 'meizu' }, 0),
                sample(ev.failedShare, { sdkappid: '1400000102', command: 'offline_push', platform: 'oppo' }, 0),
              ],
            },
          ],
          alert_rule_test: [
            { eval_time: '%dm' % t, alertname: 'ImstatsPushEventsFailing', exp_alerts: [] }
            for t in [30, 60, 63, 66]
          ] + [
            // Within 10 minutes of the first failed events, huawei and the
            // chat-message pushes on oppo; not xiaomi (40%), not meizu (60
            // events in 5 minutes).
            {
              eval_time: '%dm' % t,
              alertname: 'ImstatsPushEventsFailing',
              exp_alerts: [
                eventsFailing('1400000101', 'all_member_push', 'huawei', '90%', '80300007: 1.35k'),
                eventsFailing('1400000102', 'offline_push', 'oppo', '100%', '-2: 150'),
              ],
            }
            for t in [70, 75, 85]
          ] + [
            // huawei back to 20% at 90m: resolved within 5 minutes.
            {
              eval_time: '96m',
              alertname: 'ImstatsPushEventsFailing',
              exp_alerts: [eventsFailing('1400000102', 'offline_push', 'oppo', '100%', '-2: 150')],
            },
          ],
        },
        {
          name: 'push_loss_reasons',
          interval: '5m',
          input_series: [
            // huawei: 15% lost to two reasons until 60m, then 70% to one.
            windowTarget('1400000201', '1h', 'huawei', steps(1000, 0, 1000)),
            windowLoss('1400000201', '1h', 'huawei', 'not_delivered', '1', steps(100, 0, 100)),
            windowLoss('1400000201', '1h', 'huawei', 'not_sent', '-2', steps(50, 0, 50)),
            windowLoss('1400000201', '1h', 'huawei', 'not_delivered', '80300007', steps(20, 60, 700)),
            // xiaomi: 40% lost to unregistered tokens, all along.
            windowTarget('1400000201', '1h', 'xiaomi', steps(1000, 0, 1000)),
            windowLoss('1400000201', '1h', 'xiaomi', 'not_delivered', '410', steps(400, 0, 400)),
            // meizu: 90% lost, of 50 pushes.
            windowTarget('1400000201', '1h', 'meizu', steps(50, 0, 50)),
            windowLoss('1400000201', '1h', 'meizu', 'not_sent', '-1', steps(45, 0, 45)),
            // vivo: 60% lost, to codes past the exporter's cap.
            windowTarget('1400000201', '1h', 'vivo', steps(1000, 0, 1000)),
            windowLoss('1400000201', '1h', 'vivo', 'not_delivered', 'other', steps(600, 0, 600)),
            // Tracked tasks: t1 on huawei from the start, t2 from 60m.
            s.series('tencent_im_push_task_platform_loss', s.target + { sdkappid: '1400000201', task_id: 't1', stage: 'not_delivered', event_type: 'offline', platform: 'huawei', code: '80300007' }, std.join(' ', ['%d' % (2 * t) for t in s.times(0, lossEnd + 1, 5)])),
            s.series('tencent_im_push_task_platform_loss', s.target + { sdkappid: '1400000201', task_id: 't2', stage: 'not_delivered', event_type: 'offline', platform: 'huawei', code: '80300007' }, '_x12 ' + steps(50, 60, 50)),
            // Chat-message pushes of another app: 80% never sent on oppo.
            s.series('tencent_im_normal_push_window_platform_target', s.target + { sdkappid: '1400000202', window: '24h', platform: 'oppo' }, steps(500, 0, 500)),
            s.series('tencent_im_normal_push_window_platform_loss', s.target + { sdkappid: '1400000202', window: '24h', stage: 'not_sent', platform: 'oppo', code: '-1' }, steps(400, 0, 400)),
          ] + [reason('1400000201', c[0], c[1]) for c in [['1', 'regid_invalid'], ['-2', 'token not uploaded'], ['80300007', 'token invalid'], ['410', 'Unregistered'], ['-1', 'Certificate id not set']]]
          + [reason('1400000202', '-1', 'Certificate id not set')],
          local tp(channel) = { vendor: 'tencent_im', source: 'tencent_push', app: '1400000201', window: '1h', channel: channel },
          promql_expr_test: [
            // t1 lost 120 in the last hour, t2 (newer than an hour) 50.
            {
              expr: loss.loss + '{window="tracked"}',
              eval_time: '90m',
              exp_samples: [sample(loss.loss, tp('huawei') { window: 'tracked', stage: 'not_delivered', code: '80300007' }, 170)],
            },
            {
              expr: loss.loss + '{channel="huawei", window="1h"}',
              eval_time: '90m',
              exp_samples: [
                sample(loss.loss, tp('huawei') { stage: 'not_delivered', code: '1' }, 100),
                sample(loss.loss, tp('huawei') { stage: 'not_sent', code: '-2' }, 50),
                sample(loss.loss, tp('huawei') { stage: 'not_delivered', code: '80300007' }, 700),
              ],
            },
            {
              expr: loss.target,
              eval_time: '90m',
              exp_samples: [sample(loss.target, tp(c), { huawei: 1000, xiaomi: 1000, meizu: 50, vivo: 1000 }[c]) for c in ['huawei', 'xiaomi', 'meizu', 'vivo']]
                           + [sample(loss.target, { vendor: 'tencent_im', source: 'tencent_normal_push', app: '1400000202', window: '24h', channel: 'oppo' }, 500)],
            },
            {
              expr: loss.share + '{channel=~"huawei|oppo"}',
              eval_time: '30m',
              exp_samples: [
                sample(loss.share, tp('huawei') { stage: 'not_delivered', code: '1' }, 0.1),
                sample(loss.share, tp('huawei') { stage: 'not_sent', code: '-2' }, 0.05),
                sample(loss.share, tp('huawei') { stage: 'not_delivered', code: '80300007' }, 0.02),
                sample(loss.share, { vendor: 'tencent_im', source: 'tencent_normal_push', app: '1400000202', window: '24h', channel: 'oppo', stage: 'not_sent', code: '-1' }, 0.8),
              ],
            },
          ],
          local chat = lossDominant('1400000202', 'tencent_normal_push', '24h', 'oppo', 'not_sent', '-1', 'Certificate id not set', '80%'),
          alert_rule_test: [
            { eval_time: '25m', alertname: 'ImstatsPushLossDominantReason', exp_alerts: [] },
            { eval_time: '35m', alertname: 'ImstatsPushLossDominantReason', exp_alerts: [chat] },
            { eval_time: '85m', alertname: 'ImstatsPushLossDominantReason', exp_alerts: [chat] },
            // 30 minutes after huawei's losses jumped to one reason; xiaomi
            // (40%), meizu (50 pushes) and vivo (codes past the cap) stay
            // quiet.
            {
              eval_time: '95m',
              alertname: 'ImstatsPushLossDominantReason',
              exp_alerts: [
                lossDominant('1400000201', 'tencent_push', '1h', 'huawei', 'not_delivered', '80300007', 'token invalid', '70%'),
                chat,
              ],
            },
          ],
        },
      ],
    }),
  }
