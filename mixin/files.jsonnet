// Every file the mixin renders, path → content. Used by
// `go run ./mixin/cmd/generate`; with the jsonnet tool,
// `jsonnet -S -m . mixin/files.jsonnet` writes the same files.
local m = import 'mixin.libsonnet';
local tests = (import 'tests/tests.libsonnet')(m);

local yaml(header, x) = header + std.manifestYamlDoc(x, indent_array_in_object=true, quote_keys=false) + '\n';

{
  'alerts/imstats-alerts.yml': yaml(|||
    # Generated from mixin/ (go run ./mixin/cmd/generate); edit mixin/*.libsonnet, not this file.
    # Alerting rules for imstats_exporter. They read the recording rules of
    # imstats-rules.yml, so load both. Runbooks: README.md#runbook-<alertname>.
  |||, m.prometheusAlerts),
  'alerts/imstats-rules.yml': yaml(|||
    # Generated from mixin/ (go run ./mixin/cmd/generate); edit mixin/*.libsonnet, not this file.
    # Recording rules for imstats_exporter: reach and click rates per channel,
    # and the per-channel sends and deliveries the delivery alerts compare.
  |||, m.prometheusRules),
} + {
  ['dashboards/' + name]: std.manifestJsonEx(m.grafanaDashboards[name], '  ') + '\n'
  for name in std.objectFields(m.grafanaDashboards)
} + {
  ['alerts/tests/' + name]: tests[name]
  for name in std.objectFields(tests)
} + {
  // Hand-written tests of the exporter-health alerts and the rate rules.
  'alerts/tests/exporter_refresh_test.yml': importstr 'tests/static/exporter_refresh_test.yml',
  'alerts/tests/exporter_state_test.yml': importstr 'tests/static/exporter_state_test.yml',
  'alerts/tests/rules_test.yml': importstr 'tests/static/rules_test.yml',
  'alerts/tests/vendor_api_test.yml': importstr 'tests/static/vendor_api_test.yml',
}
