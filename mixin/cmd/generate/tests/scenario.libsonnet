// Turns scenario descriptions into promtool rule-test input: pushes sent on
// a schedule, each channel delivering its pushes along an ease-out curve
// (fast at first, settled after `settle` minutes), as real pushes do: offline
// devices come online over hours. Times are in minutes from the start of the
// test; samples are every `step` minutes, as a scrape every 5m would see.
// The numbers come from the generator's native functions trackedSeries and
// windowSeries (mixin/cmd/generate/scenario.go).
{
  step:: 5,

  local step = self.step,

  // times returns [from, from+every, …] below to.
  times(from, to, every):: [from + i * every for i in std.range(0, std.ceil((to - from) / every) - 1)],

  // series renders one input series.
  series(name, labels, values):: {
    series: name + '{' + std.join(',', ['%s="%s"' % [k, labels[k]] for k in std.objectFields(labels)]) + '}',
    values: values,
  },

  // The labels a scrape of the exporter adds.
  target:: { job: 'imstats', instance: 'exporter:9787' },

  // trackedPushes renders the per-ID series of tracked pushes (JPush
  // messages, JPush group messages, Tencent tasks): one push every `every`
  // minutes from `from` to `end`, each ID's series starting at its push.
  // app: {metrics: [sent, delivered], idLabel, idPrefix, labels, channels:
  // {name: {sent, rate, settle}}, channelLabel, outages: {channel: [...]}}.
  trackedPushes(app, from, every, end)::
    std.flattenArrays([
      std.flattenArrays([
        local labels = $.target + app.labels + { [app.idLabel]: '%s%d' % [app.idPrefix, push], [app.channelLabel]: name };
        local v = std.native('trackedSeries')(app.channels[name], std.get(app.outages, name, []), push, end, step);
        [$.series(app.metrics[0], labels, v[0]), $.series(app.metrics[1], labels, v[1])]
        for name in std.objectFields(app.channels)
      ])
      for push in $.times(from, end + 1, every)
    ]),

  // windowPushes renders a rolling-window gauge (Tencent push statistics):
  // at each sample, the sum over the pushes of the last `window` minutes,
  // pushes going out every `every` minutes from `from`.
  windowPushes(app, window, windowLabel, from, every, end)::
    std.flattenArrays([
      local labels = $.target + app.labels + { window: windowLabel, [app.channelLabel]: name };
      local v = std.native('windowSeries')(app.channels[name], std.get(app.outages, name, []), from, every, window, end, step);
      [$.series(app.metrics[0], labels, v[0]), $.series(app.metrics[1], labels, v[1])]
      for name in std.objectFields(app.channels)
    ]),
}
