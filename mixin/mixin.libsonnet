// The imstats_exporter monitoring mixin: alerts, recording rules and Grafana
// dashboards for Tencent IM and JPush push statistics. `go run
// ./mixin/cmd/generate` renders it into alerts/ and dashboards/.
(import 'config.libsonnet') +
(import 'rules.libsonnet') +
(import 'alerts.libsonnet') +
(import 'rules_events_loss.libsonnet') +
(import 'alerts_events_loss.libsonnet') +
(import 'dashboards/dashboards.libsonnet')
