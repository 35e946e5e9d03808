// The knobs of the imstats mixin. Override any of them with
//   (import 'mixin.libsonnet') + { _config+:: { exporterJobSelector: 'job="push-stats"' } }
{
  _config+:: {
    // Selects the exporter's own scrape target in `up`; the exporter-down
    // alert needs it (a Prometheus without this job raises the alert).
    exporterJobSelector: 'job="imstats"',
    // Added to every vendor metric the rules read, e.g. 'job="imstats"' to
    // ignore other exporters' series of the same names; empty reads all.
    metricSelector: '',

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
    smoothing: '1h',  // reach is averaged over this long, so one fresh push is not an outage
    baselineWindow: '7d',  // "usual" = the average over this long …
    historyNeeded: '1d',  // … ending this long ago; comparing with history needs this much of it
    // Tracked tasks and messages: sends and deliveries of the last flowWindow
    // (each ID's increase, or its whole count when it is newer).
    flowWindow: '1h',

    'for': {
      channelBelowPeers: '30m',
      channelBelowNormal: '30m',
      deliveryBelowNormal: '30m',
      exporterDown: '5m',
    },
    severity: {
      channelBelowPeers: 'critical',
      channelBelowNormal: 'warning',
      deliveryBelowNormal: 'critical',
      exporterDown: 'critical',
    },

    runbookURLBase: 'https://github.com/imstats/imstats_exporter/blob/main/README.md#runbook-',

    // Dashboards.
    dashboardTags: ['imstats'],
  },
}
