// Small helpers for PromQL text and Grafana panels; no external library.
{
  // selector joins the non-empty matchers into {…}, or '' when there are
  // none.
  selector(matchers)::
    local ms = [m for m in matchers if m != ''];
    if ms == [] then '' else '{' + std.join(', ', ms) + '}',

  // duration spells a Prometheus duration of one unit ('15m') in words
  // ('15 minutes'), for annotations.
  duration(d)::
    local units = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week' };
    local n = std.parseInt(d[:std.length(d) - 1]);
    '%d %s%s' % [n, units[d[std.length(d) - 1]], if n == 1 then '' else 's'],

  // setLabel sets label to a fixed value on every series of expr.
  setLabel(expr, label, value)::
    'label_replace(%s, "%s", "%s", "", "")' % [expr, label, value],

  // copyLabel copies the value of label from into label to.
  copyLabel(expr, to, from)::
    if to == from then expr else 'label_replace(%s, "%s", "$1", "%s", "(.*)")' % [expr, to, from],
}
