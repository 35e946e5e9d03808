// Whether each app's pushes are watched at all: an app whose users are
// active and which has tracked no push ID for a day has no delivery alert
// that can fire for its pushes. A function of the mixin's _config and the
// runbook URL builder.
local lib = import 'lib/lib.libsonnet';
local sources = (import 'sources.libsonnet').sources;

function(c, runbook)
  local sel(matchers='') = lib.selector([c.metricSelector, matchers]);
  // The sources that poll the tracked IDs of an ID kind: they all report
  // the one set of the app in imstats_exporter_tracked_ids.
  local sourcesOf(kind) = std.join('|', [s.name for s in sources if s.idKind == kind]);
  // An app of vendor that tracked no ID over the last notWatchedWindow,
  // while its users (usersMetric, the app in label appLabel) were active.
  local notWatched(vendor, kind, usersMetric, appLabel) = |||
    %(tracked)s
    and on (job, instance, app)
    %(users)s
  ||| % {
    tracked: lib.setLabel('max by (job, instance, app) (max_over_time(imstats_exporter_tracked_ids%s[%s])) == 0' % [sel('source=~"%s"' % sourcesOf(kind)), c.notWatchedWindow], 'vendor', vendor),
    users: lib.copyLabel('max_over_time(%s%s[%s]) > 0' % [usersMetric, sel(), c.notWatchedWindow], 'app', appLabel),
  };
  [
    {
      name: 'imstats_push_watched',
      rules: [
        {
          alert: 'ImstatsPushNotWatched',
          expr: '(\n%s)\nor\n(\n%s)\n' % [
            notWatched('tencent_im', 'tencent_push', 'tencent_im_active_users', 'sdkappid'),
            notWatched('jpush', 'jpush_messages', 'jpush_users_active', 'app_key'),
          ],
          'for': c['for'].pushNotWatched,
          labels: { severity: c.severity.pushNotWatched },
          annotations: {
            summary: "{{ $labels.vendor }} app {{ $labels.app }}'s delivery is not watched: feed it IDs",
            description: 'Users of {{ $labels.vendor }} app {{ $labels.app }} were active in the last %s, and imstats_exporter on {{ $labels.instance }} tracked no push ID of the app in that time: no delivery alert can fire for its pushes. Register the TaskId or msg_id of each push as the push API answers it (docs/feeding.md).' % lib.duration(c.notWatchedWindow),
            runbook_url: runbook('ImstatsPushNotWatched'),
          },
        },
      ],
    },
  ]
