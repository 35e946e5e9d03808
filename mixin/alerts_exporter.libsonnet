// The exporter's own health: refreshes, vendor API answers, tracked IDs and
// configuration reloads. A function of the mixin's _config and the runbook
// URL builder.
local lib = import 'lib/lib.libsonnet';

function(c, runbook)
  // sel(matchers) is the selector of the exporter's series with matchers.
  local sel(matchers='') = lib.selector([c.metricSelector, matchers]);
  local forOf(key) = { 'for': c['for'][key], labels: { severity: c.severity[key] } };
  [
  {
    name: 'imstats_exporter_refresh',
    rules: [
      // A source the account cannot use has its own alert
      // (ImstatsSourceUnavailable); it is left out of the two below.
      {
        alert: 'ImstatsRefreshFailing',
        expr: |||
          imstats_exporter_refresh_success%(s)s == 0
          unless imstats_exporter_source_available%(s)s == 0
        ||| % { s: sel() },
        annotations: {
          summary: 'imstats_exporter cannot refresh {{ $labels.source }} for app {{ $labels.app }}',
          description: 'Every refresh of source {{ $labels.source }} for app {{ $labels.app }} on {{ $labels.instance }} has failed for %s; the exporter is serving the last good values.' % lib.duration(c['for'].refreshFailing),
          runbook_url: runbook('ImstatsRefreshFailing'),
        },
      } + forOf('refreshFailing'),
      {
        alert: 'ImstatsDataStale',
        expr: |||
          time() - imstats_exporter_last_refresh_success_timestamp_seconds%(s)s
            > 3 * imstats_exporter_refresh_interval_seconds%(s)s
          unless imstats_exporter_source_available%(s)s == 0
        ||| % { s: sel() },
        annotations: {
          summary: 'imstats_exporter data for {{ $labels.source }} app {{ $labels.app }} is {{ $value | humanizeDuration }} old',
          description: 'The last successful refresh of source {{ $labels.source }} for app {{ $labels.app }} on {{ $labels.instance }} was {{ $value | humanizeDuration }} ago, more than 3 refresh intervals; dashboards and delivery alerts are looking at old data.',
          runbook_url: runbook('ImstatsDataStale'),
        },
      } + forOf('dataStale'),
      {
        alert: 'ImstatsSourceUnavailable',
        expr: 'imstats_exporter_source_available%s == 0\n' % sel(),
        annotations: {
          summary: 'The account of app {{ $labels.app }} cannot use source {{ $labels.source }}',
          description: 'The vendor refuses source {{ $labels.source }} for app {{ $labels.app }} as not permitted or not enabled (JPush 2003, Tencent 90009/90045/60010); the exporter polls it rarely. Enable the service or turn the source off.',
          runbook_url: runbook('ImstatsSourceUnavailable'),
        },
      } + forOf('sourceUnavailable'),
    ],
  },
  {
    name: 'imstats_exporter_vendor_api',
    rules: [
      // The 10m window is shorter than `for:`, so a one-off error never
      // fires: a single 70001 is routine, the client regenerates the UserSig
      // and retries once. Tencent codes 70001-70xxx are UserSig and account
      // errors except 70050, a rate limit (Tencent Chat REST API "Pulling
      // Operations Data", getappinfo, lists them). JPush answers 401 with
      // code 3001 (JPush docs "REST API v3 Report").
      {
        alert: 'ImstatsVendorAuthFailing',
        expr: |||
          increase(imstats_exporter_api_requests_total%s[10m]) > 0
          or
          increase(imstats_exporter_api_requests_total%s[10m]) > 0
        ||| % [sel('vendor="tencent_im", code=~"70[0-9]{3}", code!="70050"'), sel('vendor="jpush", code=~"401|3001"')],
        annotations: {
          summary: "{{ $labels.vendor }} keeps rejecting imstats_exporter's credentials (code {{ $labels.code }})",
          description: '{{ $value | humanize }} calls to {{ $labels.vendor }} {{ $labels.api }} from {{ $labels.instance }} were rejected with code {{ $labels.code }} in the last 10 minutes, and it has kept happening for %s.' % lib.duration(c['for'].vendorAuthFailing),
          runbook_url: runbook('ImstatsVendorAuthFailing'),
        },
      } + forOf('vendorAuthFailing'),
      // Tencent rate-limit codes 60007, 60011, 60018, 60019 and 70050; JPush
      // HTTP 429 with code 2002, 2001 in older docs.
      {
        alert: 'ImstatsVendorRateLimited',
        expr: |||
          increase(imstats_exporter_api_requests_total%s[10m]) > 0
          or
          increase(imstats_exporter_api_requests_total%s[10m]) > 0
        ||| % [sel('vendor="tencent_im", code=~"60007|60011|60018|60019|70050"'), sel('vendor="jpush", code=~"429|2001|2002"')],
        annotations: {
          summary: '{{ $labels.vendor }} keeps rate-limiting imstats_exporter (code {{ $labels.code }})',
          description: '{{ $value | humanize }} calls to {{ $labels.vendor }} {{ $labels.api }} from {{ $labels.instance }} were refused as over the rate limit (code {{ $labels.code }}) in the last 10 minutes, and it has kept happening for %s.' % lib.duration(c['for'].vendorRateLimited),
          runbook_url: runbook('ImstatsVendorRateLimited'),
        },
      } + forOf('vendorRateLimited'),
    ],
  },
  {
    name: 'imstats_exporter_tracked_ids',
    rules: [
      // A limit of 0 is not a cap, hence `> 0`.
      {
        alert: 'ImstatsTrackedIDsAtLimit',
        expr: |||
          imstats_exporter_tracked_ids%(s)s >= (imstats_exporter_tracked_ids_limit%(s)s > 0)
          or
          increase(imstats_exporter_tracked_ids_evicted_total%(s)s[1h]) > 0
        ||| % { s: sel() },
        annotations: {
          summary: 'imstats_exporter tracks as many {{ $labels.source }} IDs for app {{ $labels.app }} as its cap allows',
          description: 'Source {{ $labels.source }} of app {{ $labels.app }} on {{ $labels.instance }} is at its tracked-ID cap or has evicted IDs in the last hour: the oldest push tasks or messages are no longer followed.',
          runbook_url: runbook('ImstatsTrackedIDsAtLimit'),
        },
      } + forOf('trackedIDsAtLimit'),
    ],
  },
  {
    name: 'imstats_exporter_config',
    rules: [
      {
        alert: 'ImstatsConfigReloadFailed',
        expr: 'imstats_exporter_config_last_reload_successful%s == 0\n' % sel(),
        annotations: {
          summary: 'imstats_exporter on {{ $labels.instance }} rejected its new configuration',
          description: 'The last configuration reload of {{ $labels.instance }} failed; it keeps running with the previous configuration until exporter.yml is fixed and reloaded.',
          runbook_url: runbook('ImstatsConfigReloadFailed'),
        },
      } + forOf('configReloadFailed'),
    ],
  },
  {
    name: 'imstats_exporter_memory',
    rules: [
      // Without a memory limit the limit gauge is 2^63-1 and this never
      // fires; with one, a live heap past 80% of it makes the Go collector
      // run more and more often.
      {
        alert: 'ImstatsExporterMemoryNearLimit',
        expr: |||
          imstats_exporter_heap_live_bytes%(s)s
            > 0.8 * imstats_exporter_memory_limit_bytes%(s)s
        ||| % { s: sel() },
        annotations: {
          summary: 'imstats_exporter on {{ $labels.instance }} has a live heap past 80% of its memory limit',
          description: 'The live heap of {{ $labels.instance }} is {{ $value | humanize1024 }}B, more than 80%% of its memory limit (--runtime.memory-limit) for %s: its garbage collector runs more and more often and scrapes slow down. Raise the limit or track fewer IDs.' % lib.duration(c['for'].memoryNearLimit),
          runbook_url: runbook('ImstatsExporterMemoryNearLimit'),
        },
      } + forOf('memoryNearLimit'),
    ],
  },
]
