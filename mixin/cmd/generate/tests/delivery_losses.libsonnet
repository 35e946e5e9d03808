// Tencent's push loss analysis beside the delivery scenarios of
// tests.libsonnet, and the loss_reasons annotation the delivery alerts must
// show from it: the channel's top reasons in the alert's source and window
// (all channels for an app-wide alert), with the vendor's text where it
// gave one. Other windows and channels carry other losses, which must not
// leak in.
local s = import 'scenario.libsonnet';

function(end)
  local constant(name, labels, value) = s.series(name, s.target + labels, '%dx%d' % [value, end / s.step]);
  local windowLoss(app, window, platform, stage, code, n) =
    constant('tencent_im_push_window_platform_loss', { sdkappid: app, window: window, stage: stage, event_type: 'offline', platform: platform, code: code }, n);
  local chatLoss(app, window, platform, stage, code, n) =
    constant('tencent_im_normal_push_window_platform_loss', { sdkappid: app, window: window, stage: stage, platform: platform, code: code }, n);
  local reason(app, code, text) = constant('tencent_im_push_loss_reason_info', { sdkappid: app, code: code, reason: text }, 1);
  local reasons = {
    '-1': 'Certificate id not set',
    '-2': 'token not uploaded',
    '1': 'regid_invalid',
    '410': 'Unregistered',
    '80300007': 'token invalid',
  };
  local series = [
    // The app whose huawei (all-member pushes) and xiaomi (chat-message
    // pushes) drop.
    windowLoss('1400000003', '1h', 'huawei', 'not_delivered', '80300007', 120),
    windowLoss('1400000003', '1h', 'huawei', 'not_sent', '-1', 30),
    windowLoss('1400000003', '1h', 'huawei', 'not_delivered', 'other', 7),
    windowLoss('1400000003', '1h', 'huawei', 'not_sent', '-2', 5),
    windowLoss('1400000003', '24h', 'huawei', 'not_delivered', '1', 900),
    windowLoss('1400000003', '1h', 'xiaomi', 'not_delivered', '1', 500),
    chatLoss('1400000003', '1h', 'xiaomi', 'not_delivered', '1', 25),
    chatLoss('1400000003', '1h', 'huawei', 'not_sent', '-2', 300),
    // The app whose every channel fails: its reasons summed over the
    // channels.
    windowLoss('1400000004', '1h', 'huawei', 'not_delivered', '80300007', 60),
    windowLoss('1400000004', '1h', 'vivo', 'not_delivered', '80300007', 15),
    windowLoss('1400000004', '1h', 'xiaomi', 'not_delivered', '1', 40),
    windowLoss('1400000004', '1h', 'apns', 'not_delivered', '410', 30),
    windowLoss('1400000004', '1h', 'xiaomi', 'not_sent', '-1', 10),
  ] + [reason(app, code, reasons[code]) for app in ['1400000003', '1400000004'] for code in std.objectFields(reasons)];
  {
    // seriesOf returns the loss analysis series of an app.
    seriesOf(app):: [x for x in series if std.length(std.findSubstr('sdkappid="%s"' % app, x.series)) > 0],

    // reasons returns the expected loss_reasons annotation of a delivery
    // alert.
    reasons(vendor, app, source, window, channel)::
      local named = {
        '1400000003/tencent_push/1h/huawei': '80300007 "token invalid" (not_delivered): 120; -1 "Certificate id not set" (not_sent): 30; other (not_delivered): 7',
        '1400000003/tencent_normal_push/1h/xiaomi': '1 "regid_invalid" (not_delivered): 25',
        '1400000004/tencent_push/1h/': '80300007 "token invalid" (not_delivered): 75; 1 "regid_invalid" (not_delivered): 40; 410 "Unregistered" (not_delivered): 30',
      };
      local key = std.join('/', [app, source, window, if channel == null then '' else channel]);
      if vendor != 'tencent_im' then vendor + ' reports no loss reasons.'
      else if std.objectHas(named, key) then 'Top loss reasons (Tencent push loss analysis): ' + named[key]
      else "Tencent's push loss analysis reports no loss here.",
  }
