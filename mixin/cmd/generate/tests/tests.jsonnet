// The generated rule tests, path → content, for the generator alone: the
// scenarios read the native functions trackedSeries and windowSeries of
// mixin/cmd/generate/scenario.go. The hand-written tests live in
// alerts/tests as they are.
local mixin = import 'mixin.libsonnet';
local tests = (import 'tests.libsonnet')(mixin) + (import 'events_loss.libsonnet')(mixin);

{
  ['alerts/tests/' + name]: tests[name]
  for name in std.objectFields(tests)
}
