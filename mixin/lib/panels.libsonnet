// Grafana panel builders, in the shape of the hand-made panels next to them:
// every panel queries ${datasource}, has a description and a unit.
local ds = { type: 'prometheus', uid: '${datasource}' };

{
  row(id, title, y):: {
    type: 'row',
    id: id,
    title: title,
    collapsed: false,
    gridPos: { h: 1, w: 24, x: 0, y: y },
    panels: [],
  },

  // targets: a list of [expr, legend].
  timeseries(id, title, description, targets, unit, gridPos, max=null):: {
    type: 'timeseries',
    id: id,
    title: title,
    description: description,
    datasource: ds,
    targets: [
      {
        datasource: ds,
        refId: std.char(std.codepoint('A') + i),
        expr: targets[i][0],
        legendFormat: targets[i][1],
        range: true,
        instant: false,
        editorMode: 'code',
      }
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
