// The knobs of the imstats mixin. Override any of them with
//   (import 'mixin.libsonnet') + { _config+:: { metricSelector: 'job="push-stats"' } }
{
  _config+:: {
    // Selects the exporter's series: added to every series that every alert,
    // recording rule and dashboard query reads (`up` included: the
    // exporter-down alert fires when no target matches it). The dashboards'
    // job and instance variables list the values it selects.
    metricSelector: 'job="imstats"',

    // Delivery alerts. A channel is compared with its peers (the other
    // channels of the same app, source and window: the same pushes) and with
    // its own history of that comparison.
    pushMinSent: 100,  // sends a channel, and its peers, need before it is judged
    // Deliveries a channel would have at its peers' reach before it is
    // judged: right after a push, every count is a handful and ratios of
    // them are noise.
    pushMinExpected: 10,
    channelPeerFloor: 0.4,  // below this share of its peers' reach a channel is failing
    // The same floor for a channel without a day of history: channels that
    // settle slower than their peers (FCM, Meizu: hours) sit at about half
    // of their peers' reach while pushes are fresh, and that is their
    // normal, which only history can tell.
    channelPeerFloorNew: 0.2,
    channelNormalFactor: 0.5,  // below this share of its usual standing among peers
    deliveryNormalFactor: 0.5,  // an app's whole reach below this share of its usual reach
    smoothing: '30m',  // reach is averaged over this long, so one fresh push is not an outage
    baselineWindow: '7d',  // "usual" = the average over this long …
    historyNeeded: '1d',  // … ending this long ago; comparing with history needs this much of it
    // Tracked tasks and messages: sends and deliveries of the last flowWindow
    // (each ID's increase, or its whole count when it is newer).
    flowWindow: '1h',
    // An app whose users were active over this long while it tracked no
    // push ID is not watched (ImstatsPushNotWatched).
    notWatchedWindow: '1d',
    // A channel that stopped delivering: in the last recentWindow its
    // tracked tasks and messages delivered less than channelStoppedShare of
    // what its peers' pace over the same minutes would give it (a rolling
    // window's channel: its reach stayed below that share of its peers' for
    // recentWindow). Named within minutes, where the hour's averages above
    // take hours.
    recentWindow: '10m',
    channelStoppedShare: 0.05,

    // How long each alert's condition must hold before it fires, and its
    // severity label, by alert.
    'for': {
      channelStopped: '15m',
      channelBelowPeers: '15m',
      channelBelowNormal: '30m',
      deliveryBelowNormal: '30m',
      exporterDown: '5m',
      refreshFailing: '15m',
      dataStale: '5m',
      sourceUnavailable: '15m',
      vendorAuthFailing: '15m',
      vendorRateLimited: '30m',
      trackedIDsAtLimit: '15m',
      configReloadFailed: '5m',
      pushNotWatched: '1h',
      memoryNearLimit: '15m',
    },
    severity: {
      channelStopped: 'critical',
      channelBelowPeers: 'critical',
      channelBelowNormal: 'warning',
      deliveryBelowNormal: 'critical',
      exporterDown: 'critical',
      refreshFailing: 'warning',
      dataStale: 'critical',
      sourceUnavailable: 'warning',
      vendorAuthFailing: 'warning',
      vendorRateLimited: 'warning',
      trackedIDsAtLimit: 'warning',
      configReloadFailed: 'warning',
      pushNotWatched: 'warning',
      memoryNearLimit: 'warning',
    },

    // Each alert's runbook_url is this followed by the alert's name in
    // lower case.
    runbookURLBase: 'https://github.com/imstats/imstats_exporter/blob/main/docs/runbooks.md#',

    // Dashboards.
    dashboardTags: ['imstats'],
    // The series whose job and instance labels fill the dashboards' job and
    // instance variables: every exporter exports it.
    dashboardTargetMetric: 'imstats_exporter_build_info',
  },
}
+ {
  // Live push events (Tencent push callbacks) and push loss reasons.
  _config+:: {
    // A channel's push events are judged over the last 5 minutes once it
    // has pushEventsMin of them, and failing when more than
    // pushEventsFailedShare of them carry an error code.
    pushEventsMin: 100,
    pushEventsFailedShare: 0.5,
    // A loss reason dominates a channel when it accounts for more than
    // pushLossDominantShare of the pushes the channel was to deliver
    // (TotalCount) in a window, once the channel has pushLossMinTarget of
    // them.
    pushLossDominantShare: 0.5,
    pushLossMinTarget: 100,
    // How many loss reasons the delivery alerts' loss_reasons annotation
    // names.
    pushLossTopReasons: 3,

    'for'+: {
      pushEventsFailing: '5m',
      pushLossDominantReason: '30m',
    },
    severity+: {
      pushEventsFailing: 'critical',
      pushLossDominantReason: 'warning',
    },
  },
}
