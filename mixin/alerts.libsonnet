// Alerting rules, one group per concern. They read the recording rules of
// rules.libsonnet, so load both generated files.
local lib = import 'lib/lib.libsonnet';

{
  local c = $._config,
  local runbook(name) = c.runbookURLBase + std.asciiLower(name),
  // sel(matchers) is the selector of the exporter's series with matchers.
  local sel(matchers='') = lib.selector([c.metricSelector, matchers]),

  // How a channel stands among its peers now (smoothed) and usually.
  local vsPeers = 'imstats:push_channel_reach_vs_peers:ratio' + sel(),
  local now = 'avg_over_time(%s[%s])' % [vsPeers, c.smoothing],
  // Usual = before the last historyNeeded, so that a drop does not lower
  // its own baseline while it lasts.
  local usual = 'avg_over_time(%s[%s] offset %s)' % [vsPeers, c.baselineWindow, c.historyNeeded],
  // Had a value a day ago (present_over_time: right after a push every
  // channel is at 0 and has no ratio for a moment).
  local withHistory = 'present_over_time(%s[%s] offset %s)' % [vsPeers, c.smoothing, c.historyNeeded],
  local enoughSent = |||
    imstats:push_channel_sent:sum%(s)s >= %(n)d
    and imstats:push_channel_peers_sent:sum%(s)s >= %(n)d
  ||| % { n: c.pushMinSent, s: sel() },
  local where = '{{ $labels.vendor }} app {{ $labels.app }}, channel {{ $labels.channel }} ({{ $labels.source }}, window {{ $labels.window }})',

  prometheusAlerts+:: {
    groups+: [
      {
        name: 'imstats_push_delivery',
        rules: [
          {
            alert: 'ImstatsPushChannelStopped',
            // A channel that stopped delivering, named within minutes: its
            // tracked tasks and messages delivered almost nothing in the
            // last recentWindow while its peers' pace would have given it
            // pushMinExpected deliveries, or, in a rolling window, its reach
            // stayed below that share of its peers' for recentWindow. Needs
            // neither history nor the hour's averages, so a new install is
            // judged too. A channel that reported no delivery in the
            // baseline window does not report deliveries at all.
            expr: |||
              (
                imstats:push_channel_recent_vs_peers:ratio%(tracked)s < %(share)g
                or
                max_over_time(%(vsPeers)s[%(r)s]) < %(share)g
              )
              and %(enough)s
              and max_over_time(imstats:push_channel_delivered:sum%(s)s[%(base)s]) > 0
            ||| % { s: sel(), tracked: sel('window="tracked"'), vsPeers: 'imstats:push_channel_reach_vs_peers:ratio' + sel('window!="tracked"'), r: c.recentWindow, share: c.channelStoppedShare, enough: std.rstripChars(enoughSent, '\n'), base: c.baselineWindow },
            'for': c['for'].channelStopped,
            labels: { severity: c.severity.channelStopped },
            annotations: {
              summary: 'Push channel {{ $labels.channel }} of {{ $labels.vendor }} app {{ $labels.app }} stopped delivering: {{ $value | humanizePercentage }} of its peers\' pace',
              description: 'In the last %s, %s delivered {{ $value | humanizePercentage }} of what the other channels of the same pushes delivered per push sent (below %s).' % [c.recentWindow, where, '%g%%' % (c.channelStoppedShare * 100)],
              runbook_url: runbook('ImstatsPushChannelStopped'),
            },
          },
          {
            alert: 'ImstatsPushChannelBelowPeers',
            // A channel that delivers far less than the other channels of the
            // same pushes, with enough sends and expected deliveries to
            // judge. A channel that is always this far behind (its usual
            // standing over the last day and more) is its normal; without a
            // day of history only a channel further behind than any that
            // merely settles slower is judged failing. A channel that has
            // reported no delivery in the baseline window does not report
            // deliveries at all (APNs without delivery receipts).
            expr: |||
              (
                %(now)s < %(floor)g
                and %(enough)s
                and max_over_time(imstats:push_channel_delivered:sum%(s)s[%(base)s]) > 0
              )
              unless
              (
                %(now)s >= %(factor)g * %(usual)s
                and %(history)s
              )
              unless
              (
                %(now)s >= %(floorNew)g
                unless %(history)s
              )
            ||| % { s: sel(), now: now, floor: c.channelPeerFloor, floorNew: c.channelPeerFloorNew, enough: std.rstripChars(enoughSent, '\n'), base: c.baselineWindow, factor: c.channelNormalFactor, usual: usual, history: withHistory },
            'for': c['for'].channelBelowPeers,
            labels: { severity: c.severity.channelBelowPeers },
            annotations: {
              summary: 'Push channel {{ $labels.channel }} of {{ $labels.vendor }} app {{ $labels.app }} delivers {{ $value | humanizePercentage }} of what its peers deliver',
              description: 'Per push sent, %s delivered {{ $value | humanizePercentage }} of what the other channels of the same pushes delivered, averaged over the last %s (floor %s, %s without a day of history).' % [where, c.smoothing, '%d%%' % (c.channelPeerFloor * 100), '%d%%' % (c.channelPeerFloorNew * 100)],
              runbook_url: runbook('ImstatsPushChannelBelowPeers'),
            },
          },
          {
            alert: 'ImstatsPushChannelBelowNormal',
            // The channel's standing among its peers fell below a share of
            // what it usually is; needs a day of history. Left to
            // ImstatsPushChannelBelowPeers when that one holds.
            expr: |||
              (
                %(now)s / %(usual)s < %(factor)g
                and %(history)s
                and %(enough)s
              )
              unless %(now)s < %(floor)g
            ||| % { now: now, usual: usual, factor: c.channelNormalFactor, history: withHistory, enough: std.rstripChars(enoughSent, '\n'), floor: c.channelPeerFloor },
            'for': c['for'].channelBelowNormal,
            labels: { severity: c.severity.channelBelowNormal },
            annotations: {
              summary: 'Push channel {{ $labels.channel }} of {{ $labels.vendor }} app {{ $labels.app }} is at {{ $value | humanizePercentage }} of its normal delivery',
              description: 'Compared with the other channels of the same pushes, %s now delivers {{ $value | humanizePercentage }} of what it usually does (its average over the %s before the last %s).' % [where, c.baselineWindow, c.historyNeeded],
              runbook_url: runbook('ImstatsPushChannelBelowNormal'),
            },
          },
          {
            alert: 'ImstatsPushDeliveryBelowNormal',
            // Every channel of an app at once (a vendor-wide outage, or the
            // app's push credentials): peers do not help, history does.
            expr: |||
              avg_over_time(imstats:push_app_reach:ratio%(sel)s[%(s)s]) / avg_over_time(imstats:push_app_reach:ratio%(sel)s[%(b)s] offset %(h)s) < %(factor)g
              and present_over_time(imstats:push_app_reach:ratio%(sel)s[%(s)s] offset %(h)s)
              and imstats:push_app_sent:sum%(sel)s >= %(n)d
            ||| % { sel: sel(), s: c.smoothing, b: c.baselineWindow, factor: c.deliveryNormalFactor, h: c.historyNeeded, n: c.pushMinSent },
            'for': c['for'].deliveryBelowNormal,
            labels: { severity: c.severity.deliveryBelowNormal },
            annotations: {
              summary: 'Pushes of {{ $labels.vendor }} app {{ $labels.app }} deliver {{ $value | humanizePercentage }} of their normal rate on every channel',
              description: 'Across all channels of {{ $labels.vendor }} app {{ $labels.app }} ({{ $labels.source }}, window {{ $labels.window }}), reach averaged over the last %s is {{ $value | humanizePercentage }} of its average over the %s before the last %s.' % [c.smoothing, c.baselineWindow, c.historyNeeded],
              runbook_url: runbook('ImstatsPushDeliveryBelowNormal'),
            },
          },
        ],
      },
      {
        name: 'imstats_exporter_up',
        rules: [
          {
            alert: 'ImstatsExporterDown',
            expr: |||
              up%(sel)s == 0
              or
              absent(up%(sel)s)
            ||| % { sel: sel() },
            'for': c['for'].exporterDown,
            labels: { severity: c.severity.exporterDown },
            annotations: {
              summary: 'imstats_exporter {{ with $labels.instance }}on {{ . }} {{ end }}is down',
              description: 'Prometheus cannot scrape imstats_exporter (%s){{ with $labels.instance }} on {{ . }}{{ end }}: no push statistics are collected and the delivery alerts are blind.' % c.metricSelector,
              runbook_url: runbook('ImstatsExporterDown'),
            },
          },
        ],
      },
    ] + (import 'alerts_exporter.libsonnet')(c, runbook)
    + (import 'alerts_feeding.libsonnet')(c, runbook),
  },
}
