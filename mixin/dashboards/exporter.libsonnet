// The imstats_exporter dashboard: the exporter's own health. Its queries
// get the mixin's selector and the job and instance variables in
// dashboards.libsonnet.
local p = import '../lib/panels.libsonnet';

// fieldConfig and options shared by panels, by panel type and unit.
local fieldConfigs = {
  statNone: {
    defaults: {
      unit: 'none',
      mappings: [
        {
          type: 'value',
          options: {
            '0': { text: 'Failing', color: 'red', index: 0 },
            '1': { text: 'OK', color: 'green', index: 1 },
          },
        },
      ],
      color: { mode: 'thresholds' },
      thresholds: { mode: 'absolute', steps: [{ color: 'red', value: null }, { color: 'green', value: 1 }] },
    },
    overrides: [],
  },
  statNone2: {
    defaults: {
      unit: 'none',
      mappings: [],
      color: { mode: 'thresholds' },
      thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'orange', value: 1 }] },
    },
    overrides: [],
  },
  timeseriesS: {
    defaults: {
      unit: 's',
      color: { mode: 'palette-classic' },
      custom: {
        drawStyle: 'line',
        lineWidth: 1,
        fillOpacity: 10,
        showPoints: 'never',
        spanNulls: false,
        stacking: { mode: 'none', group: 'A' },
      },
      min: 0,
    },
    overrides: [],
  },
  tableNone: {
    defaults: {
      unit: 'none',
      mappings: [
        {
          type: 'value',
          options: {
            '0': { text: 'no', color: 'red', index: 0 },
            '1': { text: 'yes', color: 'green', index: 1 },
          },
        },
      ],
      custom: { align: 'auto', filterable: true },
    },
    overrides: [
      { matcher: { id: 'byName', options: 'Age' }, properties: [{ id: 'unit', value: 's' }] },
      { matcher: { id: 'byName', options: 'Interval' }, properties: [{ id: 'unit', value: 's' }] },
      {
        matcher: { id: 'byName', options: 'Age / interval' },
        properties: [{ id: 'unit', value: 'short' }],
      },
    ],
  },
  timeseriesReqps: {
    defaults: {
      unit: 'reqps',
      color: { mode: 'palette-classic' },
      custom: {
        drawStyle: 'line',
        lineWidth: 1,
        fillOpacity: 10,
        showPoints: 'never',
        spanNulls: false,
        stacking: { mode: 'none', group: 'A' },
      },
      min: 0,
    },
    overrides: [],
  },
  timeseriesReqps2: {
    defaults: {
      unit: 'reqps',
      color: { mode: 'palette-classic' },
      custom: {
        drawStyle: 'line',
        lineWidth: 1,
        fillOpacity: 10,
        showPoints: 'never',
        spanNulls: false,
        stacking: { mode: 'normal', group: 'A' },
      },
      min: 0,
    },
    overrides: [],
  },
  tableShort: {
    defaults: { unit: 'short', mappings: [], custom: { align: 'auto', filterable: true } },
    overrides: [],
  },
  timeseriesShort: {
    defaults: {
      unit: 'short',
      color: { mode: 'palette-classic' },
      custom: {
        drawStyle: 'line',
        lineWidth: 1,
        fillOpacity: 10,
        showPoints: 'never',
        spanNulls: false,
        stacking: { mode: 'none', group: 'A' },
      },
      min: 0,
    },
    overrides: [],
  },
  statDatetimefromnow: {
    defaults: {
      unit: 'dateTimeFromNow',
      mappings: [],
      color: { mode: 'thresholds' },
      thresholds: { mode: 'absolute', steps: [{ color: 'blue', value: null }] },
    },
    overrides: [],
  },
  tableNone2: {
    defaults: { unit: 'none', mappings: [], custom: { align: 'auto', filterable: true } },
    overrides: [],
  },
};
local options = {
  stat: {
    reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
    colorMode: 'value',
    graphMode: 'none',
    textMode: 'value_and_name',
    justifyMode: 'auto',
    orientation: 'auto',
  },
  stat2: {
    reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
    colorMode: 'value',
    graphMode: 'none',
    textMode: 'value',
    justifyMode: 'auto',
    orientation: 'auto',
  },
  timeseries: {
    legend: { displayMode: 'table', placement: 'bottom', calcs: ['lastNotNull', 'max'] },
    tooltip: { mode: 'multi', sort: 'desc' },
  },
  table: { showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], fields: '' } },
};

p.dashboard('imstats-exporter', 'imstats_exporter', 'Health of imstats_exporter itself: refresh results and data age per source and app, vendor API calls, errors, latency and rate limits, tracked IDs and configuration reloads.', 'now-2d') + {
  templating: { list: [
    p.datasourceVariable,
    p.variable('source', 'Source', 'Exporter sources (tencent_operations, tencent_push, jpush_received, …).', 'label_values(imstats_exporter_refresh_success{}, source)'),
    p.variable('app', 'App', 'SDKAppID, AppKey or group key.', 'label_values(imstats_exporter_refresh_success{source=~"$source"}, app)'),
    p.variable('vendor', 'Vendor', 'tencent_im or jpush.', 'label_values(imstats_exporter_api_requests_total{}, vendor)'),
  ] },
  panels: [
    p.row(1, 'Refresh', 0),
    p.panel('stat', 2, 'Refresh status',
      'Whether the last refresh of each source and app succeeded (`imstats_exporter_refresh_success`). A failed refresh keeps serving the last good values.',
      { h: 6, w: 16, x: 0, y: 1 }, fieldConfigs.statNone, options.stat, [
        p.target('A', 'imstats_exporter_refresh_success{source=~"$source", app=~"$app"}', '{{source}} {{app}}'),
      ]),
    p.panel('stat', 3, 'Sources unavailable',
      'Sources the vendor refuses for the account (JPush 2003 VIP-only, Tencent 90009/90045/60010), from `imstats_exporter_source_available == 0`; they are polled rarely.',
      { h: 6, w: 8, x: 16, y: 1 }, fieldConfigs.statNone2, options.stat2, [
        p.target('A', 'count(imstats_exporter_source_available{source=~"$source", app=~"$app"} == 0) or vector(0)', 'unavailable'),
      ]),
    p.panel('timeseries', 4, 'Data age',
      'Seconds since the last successful refresh of each source and app: `time() - imstats_exporter_last_refresh_success_timestamp_seconds`. The ImstatsDataStale alert fires above 3 refresh intervals.',
      { h: 9, w: 12, x: 0, y: 7 }, fieldConfigs.timeseriesS, options.timeseries, [
        p.target('A', 'time() - imstats_exporter_last_refresh_success_timestamp_seconds{source=~"$source", app=~"$app"}', '{{source}} {{app}}'),
      ]),
    p.panel('timeseries', 5, 'Refresh duration',
      'How long the last refresh of each source and app took (`imstats_exporter_last_refresh_duration_seconds`). A refresh that takes about as long as its interval (many tracked IDs against a slow vendor rate limit) makes the data stale.',
      { h: 9, w: 12, x: 12, y: 7 }, fieldConfigs.timeseriesS, options.timeseries, [
        p.target('A', 'imstats_exporter_last_refresh_duration_seconds{source=~"$source", app=~"$app"}', '{{source}} {{app}}'),
      ]),
    p.panel('table', 6, 'Refresh overview',
      'Per source and app: last refresh result, data age, configured refresh interval (`imstats_exporter_refresh_interval_seconds`), age in refresh intervals (stale above 3) and whether the vendor lets the account use the source.',
      { h: 8, w: 24, x: 0, y: 16 }, fieldConfigs.tableNone, options.table, [
        p.target('A', 'imstats_exporter_refresh_success{source=~"$source", app=~"$app"}', '__auto', instant=true, format='table'),
        p.target('B', 'time() - imstats_exporter_last_refresh_success_timestamp_seconds{source=~"$source", app=~"$app"}', '__auto', instant=true, format='table'),
        p.target('C', 'imstats_exporter_refresh_interval_seconds{source=~"$source", app=~"$app"}', '__auto', instant=true, format='table'),
        p.target('D', "(time() - imstats_exporter_last_refresh_success_timestamp_seconds{source=~\"$source\", app=~\"$app\"})\n/\n(imstats_exporter_refresh_interval_seconds{source=~\"$source\", app=~\"$app\"} > 0)", '__auto', instant=true, format='table'),
        p.target('E', 'imstats_exporter_source_available{source=~"$source", app=~"$app"}', '__auto', instant=true, format='table'),
      ]) + {
      transformations: [
        { id: 'merge', options: {} },
        {
          id: 'organize',
          options: {
            excludeByName: { Time: true, __name__: true, job: true, instance: true },
            indexByName: {
              source: 0,
              app: 1,
              'Value #A': 2,
              'Value #B': 3,
              'Value #C': 4,
              'Value #D': 5,
              'Value #E': 6,
            },
            renameByName: {
              'Value #A': 'Last refresh',
              'Value #B': 'Age',
              'Value #C': 'Interval',
              'Value #D': 'Age / interval',
              'Value #E': 'Available',
            },
          },
        },
      ],
    },
    p.row(7, 'Vendor API calls', 24),
    p.panel('timeseries', 8, 'Vendor calls',
      'Calls per second to each vendor API, all outcomes (`imstats_exporter_api_requests_total`).',
      { h: 9, w: 12, x: 0, y: 25 }, fieldConfigs.timeseriesReqps, options.timeseries, [
        p.target('A', 'sum by (vendor, api) (rate(imstats_exporter_api_requests_total{vendor=~"$vendor"}[$__rate_interval]))', '{{vendor}} {{api}}'),
      ]),
    p.panel('timeseries', 9, 'Vendor errors by code',
      'Failed calls per second by vendor error code or HTTP status (`code` other than 0): Tencent 70001 UserSig expired, 70xxx signature or account rejected, 60007/60011/60018/60019/70050 rate limited; JPush 401/3001 authentication failed, 429/2002 rate limited, 2003 no permission; `network` and `invalid_response` from the exporter.',
      { h: 9, w: 12, x: 12, y: 25 }, fieldConfigs.timeseriesReqps2, options.timeseries, [
        p.target('A', 'sum by (vendor, api, code) (rate(imstats_exporter_api_requests_total{vendor=~"$vendor", code!="0"}[$__rate_interval]))', '{{vendor}} {{api}} {{code}}'),
      ]),
    p.panel('timeseries', 10, 'Vendor call latency',
      '50th, 90th and 99th percentile duration of vendor API calls (`imstats_exporter_api_request_duration_seconds`).',
      { h: 9, w: 12, x: 0, y: 34 }, fieldConfigs.timeseriesS, options.timeseries, [
        p.target('A', 'histogram_quantile(0.5, sum by (vendor, api, le) (rate(imstats_exporter_api_request_duration_seconds_bucket{vendor=~"$vendor"}[$__rate_interval])))', '{{vendor}} {{api}} p50'),
        p.target('B', 'histogram_quantile(0.9, sum by (vendor, api, le) (rate(imstats_exporter_api_request_duration_seconds_bucket{vendor=~"$vendor"}[$__rate_interval])))', '{{vendor}} {{api}} p90'),
        p.target('C', 'histogram_quantile(0.99, sum by (vendor, api, le) (rate(imstats_exporter_api_request_duration_seconds_bucket{vendor=~"$vendor"}[$__rate_interval])))', '{{vendor}} {{api}} p99'),
      ]),
    p.panel('table', 11, 'Errors in the time range',
      "Failed vendor calls over the dashboard's time range, by vendor, API and code (`increase(imstats_exporter_api_requests_total[$__range])`).",
      { h: 9, w: 12, x: 12, y: 34 }, fieldConfigs.tableShort, options.table, [
        p.target('A', 'sum by (vendor, api, code) (increase(imstats_exporter_api_requests_total{vendor=~"$vendor", code!="0"}[$__range])) > 0', '__auto', instant=true, format='table'),
      ]) + {
      transformations: [
        { id: 'merge', options: {} },
        {
          id: 'organize',
          options: {
            excludeByName: { Time: true, __name__: true, job: true, instance: true },
            indexByName: { vendor: 0, api: 1, code: 2, 'Value #A': 3 },
            renameByName: { 'Value #A': 'Errors' },
          },
        },
      ],
    },
    p.panel('timeseries', 12, 'Rate-limit quota remaining',
      "Calls left in the vendor's current rate-limit period, where the vendor says (JPush `X-Rate-Limit-Remaining`): `imstats_exporter_rate_limit_remaining`.",
      { h: 8, w: 24, x: 0, y: 43 }, fieldConfigs.timeseriesShort, options.timeseries, [
        p.target('A', 'imstats_exporter_rate_limit_remaining{vendor=~"$vendor", app=~"$app"}', '{{vendor}} {{app}}'),
      ]),
    p.row(13, 'Tracked IDs', 51),
    p.panel('timeseries', 14, 'Tracked IDs and cap',
      'Push tasks and messages the exporter follows per source and app (`imstats_exporter_tracked_ids`) against the per-app cap (`imstats_exporter_tracked_ids_limit`).',
      { h: 9, w: 12, x: 0, y: 52 }, fieldConfigs.timeseriesShort, options.timeseries, [
        p.target('A', 'imstats_exporter_tracked_ids{source=~"$source", app=~"$app"}', '{{source}} {{app}}'),
        p.target('B', 'imstats_exporter_tracked_ids_limit{source=~"$source", app=~"$app"}', '{{source}} {{app}} cap'),
      ]),
    p.panel('timeseries', 15, 'IDs evicted by the cap',
      'IDs dropped because the per-app cap was reached, per rate interval (`imstats_exporter_tracked_ids_evicted_total`). Anything above 0 means old tasks or messages are no longer followed.',
      { h: 9, w: 12, x: 12, y: 52 }, fieldConfigs.timeseriesShort, options.timeseries, [
        p.target('A', 'increase(imstats_exporter_tracked_ids_evicted_total{source=~"$source", app=~"$app"}[$__rate_interval])', '{{source}} {{app}}'),
      ]),
    p.row(16, 'Configuration and build', 61),
    p.panel('stat', 17, 'Last configuration reload',
      'Whether the last reload of exporter.yml succeeded (`imstats_exporter_config_last_reload_successful`); a rejected configuration leaves the previous one running.',
      { h: 6, w: 8, x: 0, y: 62 }, fieldConfigs.statNone, options.stat, [
        p.target('A', 'imstats_exporter_config_last_reload_successful{}', '{{instance}}'),
      ]),
    p.panel('stat', 18, 'Last successful reload',
      'When each exporter last loaded its configuration successfully (`imstats_exporter_config_last_reload_success_timestamp_seconds`).',
      { h: 6, w: 8, x: 8, y: 62 }, fieldConfigs.statDatetimefromnow, options.stat, [
        p.target('A', 'imstats_exporter_config_last_reload_success_timestamp_seconds{} * 1000', '{{instance}}'),
      ]),
    p.panel('table', 19, 'Build',
      'Version of each running exporter (`imstats_exporter_build_info`).',
      { h: 6, w: 8, x: 16, y: 62 }, fieldConfigs.tableNone2, options.table, [
        p.target('A', 'imstats_exporter_build_info{}', '__auto', instant=true, format='table'),
      ]) + {
      transformations: [
        { id: 'merge', options: {} },
        {
          id: 'organize',
          options: {
            excludeByName: { Time: true, __name__: true, job: true, instance: false, 'Value #A': true },
            indexByName: { instance: 0, version: 1, revision: 2, branch: 3, goversion: 4, 'Value #A': 5 },
            renameByName: { 'Value #A': 'Build' },
          },
        },
      ],
    },
  ],
}
