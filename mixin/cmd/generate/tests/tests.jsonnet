// The generated rule tests, path → content, for the generator alone: the
// scenarios read the native functions trackedSeries and windowSeries of
// mixin/cmd/generate/scenario.go. The hand-written tests live in
// alerts/tests as they are.
local tests = (import 'tests.libsonnet')(import 'mixin.libsonnet');

{
  ['alerts/tests/' + name]: tests[name]
  for name in std.objectFields(tests)
}
