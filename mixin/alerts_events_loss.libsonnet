// Alerts on the live push events (Tencent push callbacks) and on Tencent's
// push loss analysis, and the loss_reasons annotation of every delivery
// alert: the channel's top loss reasons at the time it fires. They read the
// recording rules of rules_events_loss.libsonnet.
local lib = import 'lib/lib.libsonnet';

{
  local c = $._config,
  local runbook(name) = c.runbookURLBase + std.asciiLower(name),
  local sel(matchers='') = lib.selector([c.metricSelector, matchers]),
  local forOf(key) = { 'for': c['for'][key], labels: { severity: c.severity[key] } },
  local ev = $.pushEventsRules,
  local loss = $.pushLossRules,

  // The groups whose alerts name a {vendor, source, app, window[,
  // channel]} of the delivery rules.
  local deliveryGroups = ['imstats_push_delivery'],

  // The text of a loss code from Tencent's push loss analysis
  // (tencent_im_push_loss_reason_info), one per code even if two targets
  // disagree, for a query in a template: printf's arguments are the
  // sdkappid and, with byCode, the code.
  local reasonInfo(byCode=false) =
    'topk by (code) (1, max by (code, reason) (tencent_im_push_loss_reason_info%s))' % sel('sdkappid="%s"' + (if byCode then ', code="%s"' else '')),

  // The loss_reasons annotation. In a template, $l is the channel's losses
  // by stage and code in the alert's source and window (all channels of the
  // app for an alert without channel); the top ones are listed with the
  // vendor's text where Tencent gave one. Not Tencent: no such analysis.
  local topReasons =
    '{{ if eq $labels.vendor "tencent_im" }}'
    + '{{ $l := printf `sum by (stage, code) (%s%s) > 0` $labels.app $labels.source $labels.window (or $labels.channel ".+") }}'
      % [loss.loss, sel('app="%s", source="%s", window="%s", channel=~"%s"')]
    + '{{ with query (printf `sort_desc(topk(%d, ((%%s) * on (code) group_left (reason) %s) or on (stage, code) (%%s)))` $l $labels.app $l) }}'
      % [c.pushLossTopReasons, reasonInfo()]
    + 'Top loss reasons (Tencent push loss analysis): '
    + '{{ range $i, $r := . }}{{ if $i }}; {{ end }}{{ .Labels.code }}{{ with .Labels.reason }} "{{ . }}"{{ end }} ({{ .Labels.stage }}): {{ .Value | humanize }}{{ end }}'
    + "{{ else }}Tencent's push loss analysis reports no loss here.{{ end }}"
    + '{{ else }}{{ $labels.vendor }} reports no loss reasons.{{ end }}',

  prometheusAlerts+:: {
    groups: [
      if std.member(deliveryGroups, g.name) then g { rules: [r { annotations+: { loss_reasons: topReasons } } for r in g.rules] } else g
      for g in super.groups
    ] + [
      {
        name: 'imstats_push_events',
        rules: [
          {
            alert: 'ImstatsPushEventsFailing',
            // Most push events of a channel carry an error code, with
            // enough events to tell: counted as Tencent's callbacks arrive,
            // so it fires minutes after the failures start, long before
            // the statistics APIs' counts settle.
            expr: |||
              %(share)s%(s)s > %(max)g
              and %(events)s%(s)s * 300 >= %(min)d
            ||| % { share: ev.failedShare, events: ev.events, s: sel(), max: c.pushEventsFailedShare, min: c.pushEventsMin },
            annotations: {
              summary: '{{ $value | humanizePercentage }} of the push events of channel {{ $labels.platform }} of Tencent IM app {{ $labels.sdkappid }} ({{ $labels.command }}) fail',
              description: 'Over the last 5 minutes, {{ $value | humanizePercentage }} of the %(command)s push events Tencent reported for channel {{ $labels.platform }} of app {{ $labels.sdkappid }} (push callbacks received by {{ $labels.instance }}) carried an error code, with at least %(min)d events, and it has lasted %(for)s. Top error codes: {{ with query (printf `sort_desc(topk(3, sum by (code) (increase(tencent_im_push_events_total%(sel)s[5m]))))` $labels.sdkappid $labels.command $labels.platform) }}{{ range $i, $r := . }}{{ if $i }}; {{ end }}{{ .Labels.code }}: {{ .Value | humanize }}{{ end }}{{ end }}.' % {
                command: '{{ $labels.command }}',
                min: c.pushEventsMin,
                'for': lib.duration(c['for'].pushEventsFailing),
                sel: sel('sdkappid="%s", command="%s", platform="%s", code!="0"'),
              },
              runbook_url: runbook('ImstatsPushEventsFailing'),
            },
          } + forOf('pushEventsFailing'),
        ],
      },
      {
        name: 'imstats_push_loss',
        rules: [
          {
            alert: 'ImstatsPushLossDominantReason',
            // One loss code alone accounts for most of what a channel was
            // to deliver in a rolling window: a certificate, a key or the
            // tokens of one vendor, which the team can fix. "other" (codes
            // past the exporter's cap) is not one reason.
            expr: |||
              %(share)s%(s)s > %(max)g
              and ignoring (stage, code) %(target)s%(t)s >= %(min)d
            ||| % { share: loss.share, target: loss.target, s: sel('code!="other"'), t: sel(), max: c.pushLossDominantShare, min: c.pushLossMinTarget },
            annotations: {
              summary: 'Push channel {{ $labels.channel }} of Tencent IM app {{ $labels.app }} loses {{ $value | humanizePercentage }} of its pushes to one reason: {{ $labels.code }}%s ({{ $labels.stage }})' % (
                '{{ with query (printf `%s` $labels.app $labels.code) }}{{ with index . 0 }} "{{ .Labels.reason }}"{{ end }}{{ end }}' % reasonInfo(true)
              ),
              description: "In Tencent's push loss analysis of the {{ $labels.source }} pushes of app {{ $labels.app }} over the last {{ $labels.window }}, code {{ $labels.code }} alone accounts for {{ $value | humanizePercentage }} of what channel {{ $labels.channel }} was to deliver (TotalCount, at least %(min)d pushes), and it has lasted %(for)s. {{ if eq $labels.stage \"not_sent\" }}These pushes were never handed to the vendor (ReadyToSendLoss): the app's push certificate or key for this vendor is missing, expired or wrong, or the devices never uploaded a token.{{ else }}The vendor refused or dropped these pushes after they were sent (PostSendDeliveredLoss): device tokens invalid or unregistered, or the vendor's quota or rules.{{ end }}" % {
                min: c.pushLossMinTarget,
                'for': lib.duration(c['for'].pushLossDominantReason),
              },
              runbook_url: runbook('ImstatsPushLossDominantReason'),
            },
          } + forOf('pushLossDominantReason'),
        ],
      },
    ],
  },
}
