// Small helpers for PromQL text and Grafana panels; no external library.
{
  // selector joins the non-empty matchers into {…}.
  selector(matchers)::
    '{' + std.join(', ', [m for m in matchers if m != '']) + '}',

  // setLabel sets label to a fixed value on every series of expr.
  setLabel(expr, label, value)::
    'label_replace(%s, "%s", "%s", "", "")' % [expr, label, value],

  // copyLabel copies the value of label from into label to.
  copyLabel(expr, to, from)::
    if to == from then expr else 'label_replace(%s, "%s", "$1", "%s", "(.*)")' % [expr, to, from],
}
