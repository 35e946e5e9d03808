// Grafana panel builders, in the shape of the hand-made panels next to them:
// every panel queries ${datasource}, has a description and a unit.
local ds = { type: 'prometheus', uid: '${datasource}' };

{
  // The envelope every dashboard shares: the imstats tag, browser time,
  // shared crosshair, refreshed every minute, linked to the other imstats
  // dashboards.
  dashboard(uid, title, description, from):: {
    uid: uid,
    title: title,
    description: description,
    tags: ['imstats'],
    timezone: 'browser',
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    time: { from: from, to: 'now' },
    refresh: '1m',
    fiscalYearStartMonth: 0,
    liveNow: false,
    weekStart: '',
    annotations: { list: [] },
    links: [{
      title: 'imstats dashboards',
      type: 'dashboards',
      tags: ['imstats'],
      asDropdown: true,
      includeVars: false,
      keepTime: true,
      icon: 'external link',
      targetBlank: false,
      tooltip: '',
      url: '',
    }],
  },

  row(id, title, y):: {
    type: 'row',
    id: id,
    title: title,
    collapsed: false,
    gridPos: { h: 1, w: 24, x: 0, y: y },
    panels: [],
  },

  // A query: over the time range, or instant (format 'table' for tables).
  target(refId, expr, legend, instant=false, format=null):: {
    datasource: ds,
    refId: refId,
    expr: expr,
    legendFormat: legend,
    range: !instant,
    instant: instant,
    editorMode: 'code',
  } + (if format == null then {} else { format: format }),

  // A panel of any type, its field config and options given whole.
  panel(type, id, title, description, gridPos, fieldConfig, options, targets):: {
    type: type,
    id: id,
    title: title,
    description: description,
    datasource: ds,
    targets: targets,
    fieldConfig: fieldConfig,
    options: options,
    gridPos: gridPos,
  },

  // targets: a list of [expr, legend].
  timeseries(id, title, description, targets, unit, gridPos, max=null):: {
    type: 'timeseries',
    id: id,
    title: title,
    description: description,
    datasource: ds,
    targets: [
      $.target(std.char(std.codepoint('A') + i), targets[i][0], targets[i][1])
      for i in std.range(0, std.length(targets) - 1)
    ],
    fieldConfig: {
      defaults: {
        unit: unit,
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
      } + (if max == null then {} else { max: max }),
      overrides: [],
    },
    options: {
      legend: { displayMode: 'table', placement: 'bottom', calcs: ['lastNotNull', 'max'] },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
    gridPos: gridPos,
  },

  // The Prometheus data source every panel queries.
  datasourceVariable:: {
    name: 'datasource',
    label: 'Data source',
    type: 'datasource',
    query: 'prometheus',
    current: {},
    hide: 0,
    includeAll: false,
    multi: false,
    options: [],
    refresh: 1,
    regex: '',
    skipUrlSync: false,
  },

  // A multi-value query variable with "All" = ".*".
  variable(name, label, description, query):: {
    name: name,
    label: label,
    description: description,
    type: 'query',
    datasource: ds,
    definition: query,
    query: { query: query, refId: 'PrometheusVariableQueryEditor-VariableQuery', qryType: 5 },
    current: { selected: true, text: ['All'], value: ['$__all'] },
    hide: 0,
    includeAll: true,
    allValue: '.*',
    multi: true,
    options: [],
    refresh: 2,
    regex: '',
    sort: 1,
    skipUrlSync: false,
  },
}
