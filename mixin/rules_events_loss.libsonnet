// Recording rules of the live push events (Tencent push callbacks,
// tencent_im_push_events_total) and of Tencent's push loss analysis
// (tencent_im_*_loss): what the events and loss alerts, the delivery alerts'
// loss_reasons annotation and the dashboards read.
local lib = import 'lib/lib.libsonnet';

{
  local c = $._config,
  local sel(matchers='') = lib.selector([c.metricSelector, matchers]),

  // The rules' names by what they hold, for the alerts and dashboards.
  pushEventsRules:: {
    events: 'sdkappid_command_platform:tencent_im_push_events:rate5m',
    failed: 'sdkappid_command_platform:tencent_im_push_events_failed:rate5m',
    failedShare: 'sdkappid_command_platform:tencent_im_push_events_failed_per_event:ratio_rate5m',
  },
  pushLossRules:: {
    loss: 'imstats:push_channel_loss:sum',
    target: 'imstats:push_channel_target:sum',
    share: 'imstats:push_channel_loss_per_target:ratio',
  },

  // labelled(expr, f) puts a family's series on the shape of the delivery
  // rules: {vendor, source, app, window, channel}.
  local labelled(expr, source, window=null) =
    local e = lib.setLabel(lib.setLabel(lib.copyLabel(lib.copyLabel(expr, 'app', 'sdkappid'), 'channel', 'platform'), 'vendor', 'tencent_im'), 'source', source);
    if window == null then e else lib.setLabel(e, 'window', window),

  // The loss families per channel: the rolling windows of both loss APIs,
  // and the tracked tasks' losses of the last flowWindow (each task's
  // increase, or its whole loss when it is newer), as the delivery rules
  // count the tracked tasks' sends.
  local taskLoss = 'tencent_im_push_task_platform_loss' + sel(),
  local lossFamilies = [
    'sum without (sdkappid, event_type, platform) (\n  %s\n)' % labelled('tencent_im_push_window_platform_loss' + sel(), 'tencent_push'),
    'sum without (sdkappid, task_id, event_type, platform) (\n  %s\n)' % labelled('clamp_min(%s - %s offset %s, 0) or %s' % [taskLoss, taskLoss, c.flowWindow, taskLoss], 'tencent_push', 'tracked'),
    'sum without (sdkappid, platform) (\n  %s\n)' % labelled('tencent_im_normal_push_window_platform_loss' + sel(), 'tencent_normal_push'),
  ],
  local targetFamilies = [
    'sum without (sdkappid, event_type, platform) (\n  %s\n)' % labelled('tencent_im_push_window_platform_target' + sel(), 'tencent_push'),
    'sum without (sdkappid, platform) (\n  %s\n)' % labelled('tencent_im_normal_push_window_platform_target' + sel(), 'tencent_normal_push'),
  ],

  local r = self.pushEventsRules,
  local l = self.pushLossRules,

  prometheusRules+:: {
    groups+: [
      {
        // Push events as Tencent's push callbacks report them, per app,
        // command (all_member_push, offline_push) and channel, over the
        // last 5 minutes: live, unlike the statistics APIs' settled counts.
        name: 'imstats_push_events_rates',
        rules: [
          {
            record: r.events,
            expr: 'sum without (event_type, stage, code) (rate(tencent_im_push_events_total%s[5m]))\n' % sel(),
          },
          {
            record: r.failed,
            expr: 'sum without (event_type, stage, code) (rate(tencent_im_push_events_total%s[5m]))\n' % sel('code!="0"'),
          },
          // The share of events with an error code; 0 when none failed.
          {
            record: r.failedShare,
            expr: |||
              (%(f)s%(s)s or %(e)s%(s)s * 0)
              /
              (%(e)s%(s)s > 0)
            ||| % { f: r.failed, e: r.events, s: sel() },
          },
        ],
      },
      {
        // Pushes lost per stage (not_sent, not_delivered) and error code,
        // on the shape of the delivery rules {vendor, source, app, window,
        // channel}, so that a delivery alert finds its channel's reasons.
        name: 'imstats_push_loss_reasons',
        rules: [
          {
            record: l.loss,
            expr: std.join('\nor\n', lossFamilies) + '\n',
          },
          // What the channel was to deliver (TotalCount) in each rolling
          // window, beside its losses.
          {
            record: l.target,
            expr: std.join('\nor\n', targetFamilies) + '\n',
          },
          // The share of that lost per stage and code.
          {
            record: l.share,
            expr: |||
              %(l)s%(s)s
              / ignoring (stage, code) group_left ()
              (%(t)s%(s)s > 0)
            ||| % { l: l.loss, t: l.target, s: sel() },
          },
        ],
      },
    ],
  },
}
