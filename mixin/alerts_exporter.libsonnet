// The exporter's own health: refreshes, vendor API answers, tracked IDs and
// configuration reloads. A function of the runbook URL builder.
function(runbook) [
  {
    name: 'imstats_exporter_refresh',
    rules: [
      // A source the account cannot use has its own alert
      // (ImstatsSourceUnavailable); it is left out of the two below.
      {
        alert: 'ImstatsRefreshFailing',
        expr: |||
          imstats_exporter_refresh_success == 0
          unless imstats_exporter_source_available == 0
        |||,
        'for': '15m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'imstats_exporter cannot refresh {{ $labels.source }} for app {{ $labels.app }}',
          description: 'Every refresh of source {{ $labels.source }} for app {{ $labels.app }} on {{ $labels.instance }} has failed for 15 minutes; the exporter is serving the last good values.',
          runbook_url: runbook('ImstatsRefreshFailing'),
        },
      },
      {
        alert: 'ImstatsDataStale',
        expr: |||
          time() - imstats_exporter_last_refresh_success_timestamp_seconds
            > 3 * imstats_exporter_refresh_interval_seconds
          unless imstats_exporter_source_available == 0
        |||,
        'for': '5m',
        labels: { severity: 'critical' },
        annotations: {
          summary: 'imstats_exporter data for {{ $labels.source }} app {{ $labels.app }} is {{ $value | humanizeDuration }} old',
          description: 'The last successful refresh of source {{ $labels.source }} for app {{ $labels.app }} on {{ $labels.instance }} was {{ $value | humanizeDuration }} ago, more than 3 refresh intervals; dashboards and delivery alerts are looking at old data.',
          runbook_url: runbook('ImstatsDataStale'),
        },
      },
      {
        alert: 'ImstatsSourceUnavailable',
        expr: 'imstats_exporter_source_available == 0\n',
        'for': '15m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'The account of app {{ $labels.app }} cannot use source {{ $labels.source }}',
          description: 'The vendor refuses source {{ $labels.source }} for app {{ $labels.app }} as not permitted or not enabled (JPush 2003, Tencent 90009/90045/60010); the exporter polls it rarely. Enable the service or turn the source off.',
          runbook_url: runbook('ImstatsSourceUnavailable'),
        },
      },
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
          increase(imstats_exporter_api_requests_total{vendor="tencent_im", code=~"70[0-9]{3}", code!="70050"}[10m]) > 0
          or
          increase(imstats_exporter_api_requests_total{vendor="jpush", code=~"401|3001"}[10m]) > 0
        |||,
        'for': '15m',
        labels: { severity: 'warning' },
        annotations: {
          summary: "{{ $labels.vendor }} keeps rejecting imstats_exporter's credentials (code {{ $labels.code }})",
          description: '{{ $value | humanize }} calls to {{ $labels.vendor }} {{ $labels.api }} from {{ $labels.instance }} were rejected with code {{ $labels.code }} in the last 10 minutes, and it has kept happening for 15 minutes.',
          runbook_url: runbook('ImstatsVendorAuthFailing'),
        },
      },
      // Tencent rate-limit codes 60007, 60011, 60018, 60019 and 70050; JPush
      // HTTP 429 with code 2002, 2001 in older docs.
      {
        alert: 'ImstatsVendorRateLimited',
        expr: |||
          increase(imstats_exporter_api_requests_total{vendor="tencent_im", code=~"60007|60011|60018|60019|70050"}[10m]) > 0
          or
          increase(imstats_exporter_api_requests_total{vendor="jpush", code=~"429|2001|2002"}[10m]) > 0
        |||,
        'for': '30m',
        labels: { severity: 'warning' },
        annotations: {
          summary: '{{ $labels.vendor }} keeps rate-limiting imstats_exporter (code {{ $labels.code }})',
          description: '{{ $value | humanize }} calls to {{ $labels.vendor }} {{ $labels.api }} from {{ $labels.instance }} were refused as over the rate limit (code {{ $labels.code }}) in the last 10 minutes, and it has kept happening for 30 minutes.',
          runbook_url: runbook('ImstatsVendorRateLimited'),
        },
      },
    ],
  },
  {
    name: 'imstats_exporter_tracked_ids',
    rules: [
      // A limit of 0 is not a cap, hence `> 0`.
      {
        alert: 'ImstatsTrackedIDsAtLimit',
        expr: |||
          imstats_exporter_tracked_ids >= (imstats_exporter_tracked_ids_limit > 0)
          or
          increase(imstats_exporter_tracked_ids_evicted_total[1h]) > 0
        |||,
        'for': '15m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'imstats_exporter tracks as many {{ $labels.source }} IDs for app {{ $labels.app }} as its cap allows',
          description: 'Source {{ $labels.source }} of app {{ $labels.app }} on {{ $labels.instance }} is at its tracked-ID cap or has evicted IDs in the last hour: the oldest push tasks or messages are no longer followed.',
          runbook_url: runbook('ImstatsTrackedIDsAtLimit'),
        },
      },
    ],
  },
  {
    name: 'imstats_exporter_config',
    rules: [
      {
        alert: 'ImstatsConfigReloadFailed',
        expr: 'imstats_exporter_config_last_reload_successful == 0\n',
        'for': '5m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'imstats_exporter on {{ $labels.instance }} rejected its new configuration',
          description: 'The last configuration reload of {{ $labels.instance }} failed; it keeps running with the previous configuration until exporter.yml is fixed and reloaded.',
          runbook_url: runbook('ImstatsConfigReloadFailed'),
        },
      },
    ],
  },
]
