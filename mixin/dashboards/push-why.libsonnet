// The push delivery dashboard's rows on why pushes fail: the live push
// events of Tencent's push callbacks, and Tencent's push loss analysis with
// the vendor's text for each code. A function of the mixin's _config, the
// names of the recording rules and the row's y; dashboards.libsonnet adds the
// rows below the others.
local p = import '../lib/panels.libsonnet';

function(c, events, loss, y0)
  // A table of the top losses, with the vendor's text joined from
  // tencent_im_push_loss_reason_info (one text per code, codes without a
  // text kept): by = the labels a row has, per = the labels of one channel
  // and stage, whose top reasons it shows.
  local lossTable(id, title, description, selector, by, per, gridPos) =
    local l = 'sum by (%s) (%s)' % [std.join(', ', by), selector];
    local reasons = 'topk by (sdkappid, code) (1, max by (sdkappid, code, reason) (tencent_im_push_loss_reason_info{sdkappid=~"$sdkappid"}))';
    local expr = 'topk by (%s) (5, (%s * on (sdkappid, code) group_left (reason) %s) or on (%s) %s)' % [std.join(', ', per), l, reasons, std.join(', ', by), l];
    p.panel('table', id, title, description, gridPos,
            { defaults: { unit: 'short', mappings: [], custom: { align: 'auto', filterable: true } }, overrides: [] },
            { showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], fields: '' }, sortBy: [{ displayName: 'Lost', desc: true }] },
            [p.target('A', expr, '__auto', instant=true, format='table')]) + {
      transformations: [{
        id: 'organize',
        options: {
          excludeByName: { Time: true },
          indexByName: { [by[i]]: i for i in std.range(0, std.length(by) - 1) } + { reason: std.length(by), Value: std.length(by) + 1 },
          renameByName: { Value: 'Lost' },
        },
      }],
    };

  [
    p.row(60, 'Live push events (Tencent push callbacks)', y0),
    p.timeseries(
      61,
      'Push events per channel',
      "Push events per second that Tencent's push callbacks reported, per app, command (`all_member_push`: all-member, tag and UserID pushes; `offline_push`: chat-message pushes) and channel, over the last 5 minutes: `%s`, from `tencent_im_push_events_total`, counted as each callback arrives (needs `--web.enable-callbacks` and the push callbacks switched on in the Tencent IM console)." % events.events,
      [['sum by (sdkappid, command, platform) (%s{sdkappid=~"$sdkappid"})' % events.events, '{{sdkappid}} {{command}} {{platform}}']],
      'cps',
      { h: 9, w: 8, x: 0, y: y0 + 1 },
    ),
    p.timeseries(
      62,
      'Failure share per channel',
      'Share of the push events with an error code (ErrCode other than 0) per app, command and channel over the last 5 minutes: `%s`. ImstatsPushEventsFailing fires above %g with at least %d events in 5 minutes.' % [events.failedShare, c.pushEventsFailedShare, c.pushEventsMin],
      [['max by (sdkappid, command, platform) (%s{sdkappid=~"$sdkappid"})' % events.failedShare, '{{sdkappid}} {{command}} {{platform}}']],
      'percentunit',
      { h: 9, w: 8, x: 8, y: y0 + 1 },
      max=1,
    ),
    p.timeseries(
      63,
      'Failed events per error code',
      'Push events per second with an error code, per app, command, channel and ErrCode (`tencent_im_push_events_total{code!="0"}`; codes past the per-channel cap are `other`).',
      [['sum by (sdkappid, command, platform, code) (rate(tencent_im_push_events_total{sdkappid=~"$sdkappid", code!="0"}[$__rate_interval]))', '{{sdkappid}} {{command}} {{platform}} {{code}}']],
      'cps',
      { h: 9, w: 8, x: 16, y: y0 + 1 },
    ),

    p.row(64, 'Why pushes are lost (Tencent push loss analysis)', y0 + 10),
    lossTable(
      65,
      'Top loss reasons per channel and stage: rolling windows',
      "The five largest losses of each channel and stage among all pushes of each rolling window (`tencent_im_push_window_platform_loss` of all_member_push_loss): `not_sent` = lost before sending (ReadyToSendLoss: certificates, tokens not uploaded), `not_delivered` = lost after sending (PostSendDeliveredLoss: invalid or unregistered tokens, vendor limits), with the vendor's text (`tencent_im_push_loss_reason_info`). Windows longer than 7 days count only their last 7 days.",
      'tencent_im_push_window_platform_loss{sdkappid=~"$sdkappid", window=~"$window"}',
      ['sdkappid', 'window', 'platform', 'stage', 'code'],
      ['sdkappid', 'window', 'platform', 'stage'],
      { h: 10, w: 12, x: 0, y: y0 + 11 },
    ),
    lossTable(
      66,
      'Top loss reasons per channel and stage: chat-message pushes',
      'The five largest losses of each channel and stage among the offline pushes of chat messages in each rolling window (`tencent_im_normal_push_window_platform_loss` of normal_push_loss), with the vendor\'s text.',
      'tencent_im_normal_push_window_platform_loss{sdkappid=~"$sdkappid", window=~"$window"}',
      ['sdkappid', 'window', 'platform', 'stage', 'code'],
      ['sdkappid', 'window', 'platform', 'stage'],
      { h: 10, w: 12, x: 12, y: y0 + 11 },
    ),
    lossTable(
      67,
      'Top loss reasons per task, channel and stage',
      'The five largest losses of each tracked task, channel and stage (`tencent_im_push_task_platform_loss` of all_member_push_loss), with the vendor\'s text.',
      'tencent_im_push_task_platform_loss{sdkappid=~"$sdkappid", task_id=~"$task"}',
      ['sdkappid', 'task_id', 'platform', 'stage', 'code'],
      ['sdkappid', 'task_id', 'platform', 'stage'],
      { h: 10, w: 12, x: 0, y: y0 + 21 },
    ),
    p.timeseries(
      68,
      "Share of a channel's pushes lost, per reason",
      "Pushes lost per stage and code as a share of what the channel was to deliver (TotalCount) in each rolling window, for all-member (`tencent_push`) and chat-message (`tencent_normal_push`) pushes: `%s`. ImstatsPushLossDominantReason fires when one code (not `other`) stays above %g for %s, with at least %d pushes." % [loss.share, c.pushLossDominantShare, c['for'].pushLossDominantReason, c.pushLossMinTarget],
      [['%s{app=~"$sdkappid", window=~"$window"}' % loss.share, '{{app}} {{source}} {{window}} {{channel}} {{stage}} {{code}}']],
      'percentunit',
      { h: 10, w: 12, x: 12, y: y0 + 21 },
      max=1,
    ),
  ]
