// The mixin as the demo (`go run . --demo --demo.degrade-channel=huawei`)
// and the end-to-end test load it: the shipped rules, with the delivery
// alerts waiting 2m instead of 15m–30m (ImstatsPushEventsFailing 2m instead
// of 5m), so that the degraded channel's alerts fire within minutes of the
// demo's start. Rendered into
// alerts/demo/imstats-alerts.yml, loaded with alerts/imstats-rules.yml
// (the recording rules do not change). Not for production.
(import 'mixin.libsonnet') + {
  _config+:: {
    'for'+: {
      channelStopped: '2m',
      channelBelowPeers: '2m',
      channelBelowNormal: '2m',
      deliveryBelowNormal: '2m',
      pushEventsFailing: '2m',
    },
  },
}
