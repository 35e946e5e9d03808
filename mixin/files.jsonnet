// Every file the mixin renders, path → content: the rules Prometheus loads
// and the dashboards Grafana imports. Plain jsonnet renders them, from the
// repository root:
//   jsonnet -J mixin -S -m . mixin/files.jsonnet
// `go run ./mixin/cmd/generate` writes the same files, and the rule tests
// of mixin/cmd/generate/tests next to them.
local m = import 'mixin.libsonnet';
local demo = import 'demo.libsonnet';

local yaml(header, x) = header + std.manifestYamlDoc(x, indent_array_in_object=true, quote_keys=false);

{
  'alerts/imstats-alerts.yml': yaml(|||
    # Generated from mixin/ (go run ./mixin/cmd/generate); edit mixin/*.libsonnet, not this file.
    # Alerting rules for imstats_exporter. They read the recording rules of
    # imstats-rules.yml, so load both. Runbooks: docs/runbooks.md.
  |||, m.prometheusAlerts),
  'alerts/imstats-rules.yml': yaml(|||
    # Generated from mixin/ (go run ./mixin/cmd/generate); edit mixin/*.libsonnet, not this file.
    # Recording rules for imstats_exporter: reach and click rates per channel,
    # the per-channel sends and deliveries the delivery alerts compare, live
    # push event rates and push loss reasons.
  |||, m.prometheusRules),
  'alerts/demo/imstats-alerts.yml':
    assert demo.prometheusRules == m.prometheusRules : 'demo.libsonnet changes the recording rules: render them into alerts/demo too';
    yaml(|||
      # Generated from mixin/demo.libsonnet (go run ./mixin/cmd/generate); edit mixin/*.libsonnet, not this file.
      # The alerting rules for the demo (go run . --demo) only: those of
      # ../imstats-alerts.yml with the delivery alerts waiting 2m, so that
      # a degraded channel fires within minutes. Load with ../imstats-rules.yml.
    |||, demo.prometheusAlerts),
} + {
  ['dashboards/' + name]: std.manifestJsonEx(m.grafanaDashboards[name], '  ')
  for name in std.objectFields(m.grafanaDashboards)
}
