// The push delivery dashboard: push funnels, reach and click rates per
// channel. dashboards.libsonnet adds rows to it and gives its queries the
// mixin's selector and the job and instance variables.
local p = import '../lib/panels.libsonnet';

// fieldConfig and options shared by panels, by panel type and unit.
local fieldConfigs = {
  bargaugeShort: {
    defaults: {
      unit: 'short',
      min: 0,
      color: { mode: 'palette-classic' },
      thresholds: { mode: 'absolute', steps: [{ color: 'blue', value: null }] },
    },
    overrides: [],
  },
  timeseriesPercentunit: {
    defaults: {
      unit: 'percentunit',
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
      max: 1,
    },
    overrides: [],
  },
  tableShort: {
    defaults: { unit: 'short', mappings: [], custom: { align: 'auto', filterable: true } },
    overrides: [
      {
        matcher: { id: 'byName', options: 'Reach' },
        properties: [{ id: 'unit', value: 'percentunit' }],
      },
      {
        matcher: { id: 'byName', options: 'Click rate' },
        properties: [{ id: 'unit', value: 'percentunit' }],
      },
    ],
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
  tableShort2: {
    defaults: { unit: 'short', mappings: [], custom: { align: 'auto', filterable: true } },
    overrides: [
      {
        matcher: { id: 'byName', options: 'Received / sent' },
        properties: [{ id: 'unit', value: 'percentunit' }],
      },
    ],
  },
};
local options = {
  bargauge: {
    reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
    displayMode: 'gradient',
    orientation: 'horizontal',
    showUnfilled: true,
  },
  timeseries: {
    legend: { displayMode: 'table', placement: 'bottom', calcs: ['lastNotNull', 'max'] },
    tooltip: { mode: 'multi', sort: 'desc' },
  },
  table: { showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], fields: '' } },
};

p.dashboard('imstats-push-delivery', 'Push delivery', 'Push funnels, reach and click rates per vendor channel for Tencent IM all-member push and JPush, from imstats_exporter.', 'now-2d') + {
  templating: { list: [
    p.datasourceVariable,
    p.variable('sdkappid', 'SDKAppID', 'Tencent IM applications whose push statistics the exporter collects.', 'label_values(imstats_exporter_refresh_success{source="tencent_push"}, app)'),
    p.variable('window', 'Window', 'Rolling windows of the overall Tencent push statistics (push.windows in exporter.yml).', 'label_values(tencent_im_push_window_sent{sdkappid=~"$sdkappid"}, window)'),
    p.variable('task', 'Task', 'Tracked Tencent push tasks (TaskId).', 'label_values(tencent_im_push_task_sent{sdkappid=~"$sdkappid"}, task_id)'),
    p.variable('app_key', 'AppKey', 'JPush applications (AppKey) the exporter collects.', 'label_values(imstats_exporter_refresh_success{source=~"jpush_received|jpush_messages|jpush_users|jpush_status"}, app)'),
    p.variable('message', 'Message', 'Tracked JPush messages (msg_id).', 'label_values({__name__=~"jpush_message_delivery_sent|jpush_message_delivery_received", app_key=~"$app_key"}, msg_id)'),
  ] },
  panels: [
    p.row(1, 'Tencent IM push: rolling windows (all push tasks)', 0),
    p.panel('bargauge', 2, 'Window funnel',
      'Overall push statistics of all tasks over each configured rolling window: TotalCount (target), SentCount, DeliveredCount and ClickCount of all_member_push_statistics with an empty TaskID (`tencent_im_push_window_{target,sent,delivered,clicked}`).',
      { h: 9, w: 8, x: 0, y: 1 }, fieldConfigs.bargaugeShort, options.bargauge, [
        p.target('A', 'tencent_im_push_window_target{sdkappid=~"$sdkappid", window=~"$window"}', '{{sdkappid}} {{window}} target', instant=true),
        p.target('B', 'tencent_im_push_window_sent{sdkappid=~"$sdkappid", window=~"$window"}', '{{sdkappid}} {{window}} sent', instant=true),
        p.target('C', 'tencent_im_push_window_delivered{sdkappid=~"$sdkappid", window=~"$window"}', '{{sdkappid}} {{window}} delivered', instant=true),
        p.target('D', 'tencent_im_push_window_clicked{sdkappid=~"$sdkappid", window=~"$window"}', '{{sdkappid}} {{window}} clicked', instant=true),
      ]),
    p.panel('timeseries', 3, 'Window reach and click rates',
      'Reach = delivered / sent and click rate = clicked / delivered over each rolling window, all channels together (`tencent_im_push_window_*`).',
      { h: 9, w: 16, x: 8, y: 1 }, fieldConfigs.timeseriesPercentunit, options.timeseries, [
        p.target('A', 'tencent_im_push_window_delivered{sdkappid=~"$sdkappid", window=~"$window"} / (tencent_im_push_window_sent{sdkappid=~"$sdkappid", window=~"$window"} > 0)', '{{sdkappid}} {{window}} reach'),
        p.target('B', 'tencent_im_push_window_clicked{sdkappid=~"$sdkappid", window=~"$window"} / (tencent_im_push_window_delivered{sdkappid=~"$sdkappid", window=~"$window"} > 0)', '{{sdkappid}} {{window}} click rate'),
      ]),
    p.panel('timeseries', 4, 'Reach per channel (delivered / sent)',
      'DeliveredCount / SentCount per push channel (PushPlatform) and EventType over each rolling window, as the recording rule `sdkappid_window_event_type_platform:tencent_im_push_window_platform_delivered_per_sent:ratio`. Online pushes are reported under platform `unknown`. APNs shows 0 unless the app reports deliveries.',
      { h: 9, w: 12, x: 0, y: 10 }, fieldConfigs.timeseriesPercentunit, options.timeseries, [
        p.target('A', "tencent_im_push_window_platform_delivered{sdkappid=~\"$sdkappid\", window=~\"$window\"}\n/\n(tencent_im_push_window_platform_sent{sdkappid=~\"$sdkappid\", window=~\"$window\"} > 0)", '{{sdkappid}} {{window}} {{platform}} {{event_type}}'),
      ]),
    p.panel('timeseries', 5, 'Click rate per channel (clicked / delivered)',
      'ClickCount / DeliveredCount per push channel (PushPlatform) and EventType over each rolling window, as the recording rule `sdkappid_window_event_type_platform:tencent_im_push_window_platform_clicked_per_delivered:ratio`.',
      { h: 9, w: 12, x: 12, y: 10 }, fieldConfigs.timeseriesPercentunit, options.timeseries, [
        p.target('A', "tencent_im_push_window_platform_clicked{sdkappid=~\"$sdkappid\", window=~\"$window\"}\n/\n(tencent_im_push_window_platform_delivered{sdkappid=~\"$sdkappid\", window=~\"$window\"} > 0)", '{{sdkappid}} {{window}} {{platform}} {{event_type}}'),
      ]),
    p.panel('table', 6, 'Funnel per channel and event type',
      'The window funnel split by push channel (`platform`) and EventType (`event_type`, offline or online): `tencent_im_push_window_platform_*`, with reach (delivered / sent) and click rate (clicked / delivered).',
      { h: 9, w: 24, x: 0, y: 19 }, fieldConfigs.tableShort, options.table, [
        p.target('A', 'tencent_im_push_window_platform_target{sdkappid=~"$sdkappid", window=~"$window"}', '__auto', instant=true, format='table'),
        p.target('B', 'tencent_im_push_window_platform_sent{sdkappid=~"$sdkappid", window=~"$window"}', '__auto', instant=true, format='table'),
        p.target('C', 'tencent_im_push_window_platform_delivered{sdkappid=~"$sdkappid", window=~"$window"}', '__auto', instant=true, format='table'),
        p.target('D', 'tencent_im_push_window_platform_clicked{sdkappid=~"$sdkappid", window=~"$window"}', '__auto', instant=true, format='table'),
        p.target('E', 'tencent_im_push_window_platform_delivered{sdkappid=~"$sdkappid", window=~"$window"} / (tencent_im_push_window_platform_sent{sdkappid=~"$sdkappid", window=~"$window"} > 0)', '__auto', instant=true, format='table'),
        p.target('F', 'tencent_im_push_window_platform_clicked{sdkappid=~"$sdkappid", window=~"$window"} / (tencent_im_push_window_platform_delivered{sdkappid=~"$sdkappid", window=~"$window"} > 0)', '__auto', instant=true, format='table'),
      ]) + {
      transformations: [
        { id: 'merge', options: {} },
        {
          id: 'organize',
          options: {
            excludeByName: { Time: true, __name__: true, job: true, instance: true },
            indexByName: {
              sdkappid: 0,
              window: 1,
              platform: 2,
              event_type: 3,
              'Value #A': 4,
              'Value #B': 5,
              'Value #C': 6,
              'Value #D': 7,
              'Value #E': 8,
              'Value #F': 9,
            },
            renameByName: {
              'Value #A': 'Target',
              'Value #B': 'Sent',
              'Value #C': 'Delivered',
              'Value #D': 'Clicked',
              'Value #E': 'Reach',
              'Value #F': 'Click rate',
            },
          },
        },
      ],
    },
    p.row(7, 'Tencent IM push: tracked tasks', 28),
    p.panel('table', 8, 'Funnel per task',
      'Statistics of each tracked push task (TaskId from v4/all_member_push/im_push): `tencent_im_push_task_{target,sent,delivered,clicked}`, with reach and click rate.',
      { h: 9, w: 12, x: 0, y: 29 }, fieldConfigs.tableShort, options.table, [
        p.target('A', 'tencent_im_push_task_target{sdkappid=~"$sdkappid", task_id=~"$task"}', '__auto', instant=true, format='table'),
        p.target('B', 'tencent_im_push_task_sent{sdkappid=~"$sdkappid", task_id=~"$task"}', '__auto', instant=true, format='table'),
        p.target('C', 'tencent_im_push_task_delivered{sdkappid=~"$sdkappid", task_id=~"$task"}', '__auto', instant=true, format='table'),
        p.target('D', 'tencent_im_push_task_clicked{sdkappid=~"$sdkappid", task_id=~"$task"}', '__auto', instant=true, format='table'),
        p.target('E', 'tencent_im_push_task_delivered{sdkappid=~"$sdkappid", task_id=~"$task"} / (tencent_im_push_task_sent{sdkappid=~"$sdkappid", task_id=~"$task"} > 0)', '__auto', instant=true, format='table'),
        p.target('F', 'tencent_im_push_task_clicked{sdkappid=~"$sdkappid", task_id=~"$task"} / (tencent_im_push_task_delivered{sdkappid=~"$sdkappid", task_id=~"$task"} > 0)', '__auto', instant=true, format='table'),
      ]) + {
      transformations: [
        { id: 'merge', options: {} },
        {
          id: 'organize',
          options: {
            excludeByName: { Time: true, __name__: true, job: true, instance: true },
            indexByName: {
              sdkappid: 0,
              task_id: 1,
              'Value #A': 2,
              'Value #B': 3,
              'Value #C': 4,
              'Value #D': 5,
              'Value #E': 6,
              'Value #F': 7,
            },
            renameByName: {
              'Value #A': 'Target',
              'Value #B': 'Sent',
              'Value #C': 'Delivered',
              'Value #D': 'Clicked',
              'Value #E': 'Reach',
              'Value #F': 'Click rate',
            },
          },
        },
      ],
    },
    p.panel('timeseries', 9, 'Reach per task (delivered / sent)',
      'DeliveredCount / SentCount of each tracked task over time; it climbs while offline devices come online.',
      { h: 9, w: 12, x: 12, y: 29 }, fieldConfigs.timeseriesPercentunit, options.timeseries, [
        p.target('A', 'tencent_im_push_task_delivered{sdkappid=~"$sdkappid", task_id=~"$task"} / (tencent_im_push_task_sent{sdkappid=~"$sdkappid", task_id=~"$task"} > 0)', '{{sdkappid}} {{task_id}}'),
      ]),
    p.panel('table', 10, 'Funnel per task, channel and event type',
      'Each tracked task split by push channel and EventType: `tencent_im_push_task_platform_*`, with reach (delivered / sent) and click rate (clicked / delivered).',
      { h: 9, w: 24, x: 0, y: 38 }, fieldConfigs.tableShort, options.table, [
        p.target('A', 'tencent_im_push_task_platform_target{sdkappid=~"$sdkappid", task_id=~"$task"}', '__auto', instant=true, format='table'),
        p.target('B', 'tencent_im_push_task_platform_sent{sdkappid=~"$sdkappid", task_id=~"$task"}', '__auto', instant=true, format='table'),
        p.target('C', 'tencent_im_push_task_platform_delivered{sdkappid=~"$sdkappid", task_id=~"$task"}', '__auto', instant=true, format='table'),
        p.target('D', 'tencent_im_push_task_platform_clicked{sdkappid=~"$sdkappid", task_id=~"$task"}', '__auto', instant=true, format='table'),
        p.target('E', 'tencent_im_push_task_platform_delivered{sdkappid=~"$sdkappid", task_id=~"$task"} / (tencent_im_push_task_platform_sent{sdkappid=~"$sdkappid", task_id=~"$task"} > 0)', '__auto', instant=true, format='table'),
        p.target('F', 'tencent_im_push_task_platform_clicked{sdkappid=~"$sdkappid", task_id=~"$task"} / (tencent_im_push_task_platform_delivered{sdkappid=~"$sdkappid", task_id=~"$task"} > 0)', '__auto', instant=true, format='table'),
      ]) + {
      transformations: [
        { id: 'merge', options: {} },
        {
          id: 'organize',
          options: {
            excludeByName: { Time: true, __name__: true, job: true, instance: true },
            indexByName: {
              sdkappid: 0,
              task_id: 1,
              platform: 2,
              event_type: 3,
              'Value #A': 4,
              'Value #B': 5,
              'Value #C': 6,
              'Value #D': 7,
              'Value #E': 8,
              'Value #F': 9,
            },
            renameByName: {
              'Value #A': 'Target',
              'Value #B': 'Sent',
              'Value #C': 'Delivered',
              'Value #D': 'Clicked',
              'Value #E': 'Reach',
              'Value #F': 'Click rate',
            },
          },
        },
      ],
    },
    p.row(11, 'JPush: delivery per channel (/v3/received/detail)', 47),
    p.panel('timeseries', 12, 'Sent per channel',
      '`<channel>_sent` of /v3/received/detail summed over the selected messages (`jpush_message_delivery_sent`). jpush, ios_msg and quickapp_jpush report no sent count.',
      { h: 9, w: 8, x: 0, y: 48 }, fieldConfigs.timeseriesShort, options.timeseries, [
        p.target('A', 'sum by (app_key, channel) (jpush_message_delivery_sent{app_key=~"$app_key", msg_id=~"$message"})', '{{app_key}} {{channel}}'),
      ]),
    p.panel('timeseries', 13, 'Received per channel',
      '`<channel>_received` of /v3/received/detail summed over the selected messages (`jpush_message_delivery_received`; `jpush_received` is channel jpush). wp_mpns and quickapp_pns report no received count.',
      { h: 9, w: 8, x: 8, y: 48 }, fieldConfigs.timeseriesShort, options.timeseries, [
        p.target('A', 'sum by (app_key, channel) (jpush_message_delivery_received{app_key=~"$app_key", msg_id=~"$message"})', '{{app_key}} {{channel}}'),
      ]),
    p.panel('timeseries', 14, 'Received / sent per channel',
      'Received / sent per channel over the selected messages that report both counts, as the recording rule `app_key_channel:jpush_message_delivery_received_per_sent:ratio` (only android_pns and ios_apns report both).',
      { h: 9, w: 8, x: 16, y: 48 }, fieldConfigs.timeseriesPercentunit, options.timeseries, [
        p.target('A', "sum by (app_key, channel) (jpush_message_delivery_received{app_key=~\"$app_key\", msg_id=~\"$message\"} and jpush_message_delivery_sent{app_key=~\"$app_key\", msg_id=~\"$message\"})\n/\n(sum by (app_key, channel) (jpush_message_delivery_sent{app_key=~\"$app_key\", msg_id=~\"$message\"} and jpush_message_delivery_received{app_key=~\"$app_key\", msg_id=~\"$message\"}) > 0)", '{{app_key}} {{channel}}'),
      ]),
    p.panel('table', 15, 'Delivery per message and channel',
      'Sent and received per tracked message and channel from /v3/received/detail, with received / sent where the channel reports both. An empty cell is a count JPush reported as null.',
      { h: 9, w: 24, x: 0, y: 57 }, fieldConfigs.tableShort2, options.table, [
        p.target('A', 'jpush_message_delivery_sent{app_key=~"$app_key", msg_id=~"$message"}', '__auto', instant=true, format='table'),
        p.target('B', 'jpush_message_delivery_received{app_key=~"$app_key", msg_id=~"$message"}', '__auto', instant=true, format='table'),
        p.target('C', 'jpush_message_delivery_received{app_key=~"$app_key", msg_id=~"$message"} / (jpush_message_delivery_sent{app_key=~"$app_key", msg_id=~"$message"} > 0)', '__auto', instant=true, format='table'),
      ]) + {
      transformations: [
        { id: 'merge', options: {} },
        {
          id: 'organize',
          options: {
            excludeByName: { Time: true, __name__: true, job: true, instance: true },
            indexByName: { app_key: 0, msg_id: 1, channel: 2, 'Value #A': 3, 'Value #B': 4, 'Value #C': 5 },
            renameByName: { 'Value #A': 'Sent', 'Value #B': 'Received', 'Value #C': 'Received / sent' },
          },
        },
      ],
    },
    p.row(16, 'JPush: message funnel (/v3/messages/detail, VIP)', 66),
    p.panel('table', 17, 'Funnel per message and type',
      'target, sent, received, display and click of each tracked message per message type (notification, message, inapp) from /v3/messages/detail: `jpush_message_{target,sent,received,displayed,clicked}`.',
      { h: 9, w: 24, x: 0, y: 67 }, fieldConfigs.tableShort, options.table, [
        p.target('A', 'jpush_message_target{app_key=~"$app_key", msg_id=~"$message"}', '__auto', instant=true, format='table'),
        p.target('B', 'jpush_message_sent{app_key=~"$app_key", msg_id=~"$message"}', '__auto', instant=true, format='table'),
        p.target('C', 'jpush_message_received{app_key=~"$app_key", msg_id=~"$message"}', '__auto', instant=true, format='table'),
        p.target('D', 'jpush_message_displayed{app_key=~"$app_key", msg_id=~"$message"}', '__auto', instant=true, format='table'),
        p.target('E', 'jpush_message_clicked{app_key=~"$app_key", msg_id=~"$message"}', '__auto', instant=true, format='table'),
        p.target('F', 'jpush_message_received{app_key=~"$app_key", msg_id=~"$message"} / (jpush_message_sent{app_key=~"$app_key", msg_id=~"$message"} > 0)', '__auto', instant=true, format='table'),
        p.target('G', 'jpush_message_clicked{app_key=~"$app_key", msg_id=~"$message"} / (jpush_message_received{app_key=~"$app_key", msg_id=~"$message"} > 0)', '__auto', instant=true, format='table'),
      ]) + {
      transformations: [
        { id: 'merge', options: {} },
        {
          id: 'organize',
          options: {
            excludeByName: { Time: true, __name__: true, job: true, instance: true },
            indexByName: {
              app_key: 0,
              msg_id: 1,
              type: 2,
              'Value #A': 3,
              'Value #B': 4,
              'Value #C': 5,
              'Value #D': 6,
              'Value #E': 7,
              'Value #F': 8,
              'Value #G': 9,
            },
            renameByName: {
              'Value #A': 'Target',
              'Value #B': 'Sent',
              'Value #C': 'Received',
              'Value #D': 'Displayed',
              'Value #E': 'Clicked',
              'Value #F': 'Reach',
              'Value #G': 'Click rate',
            },
          },
        },
      ],
    },
    p.panel('table', 18, 'Funnel per type, platform and channel',
      'The selected messages summed per message type, platform (android, ios, quickapp) and channel (`jpush_message_channel_*`, the subAndroid/subios/subqicukapp objects of /v3/messages/detail), with reach (received / sent) and click rate (clicked / received) over the messages that report both counts.',
      { h: 10, w: 24, x: 0, y: 76 }, fieldConfigs.tableShort, options.table, [
        p.target('A', 'sum by (app_key, type, platform, channel) (jpush_message_channel_target{app_key=~"$app_key", msg_id=~"$message"})', '__auto', instant=true, format='table'),
        p.target('B', 'sum by (app_key, type, platform, channel) (jpush_message_channel_sent{app_key=~"$app_key", msg_id=~"$message"})', '__auto', instant=true, format='table'),
        p.target('C', 'sum by (app_key, type, platform, channel) (jpush_message_channel_received{app_key=~"$app_key", msg_id=~"$message"})', '__auto', instant=true, format='table'),
        p.target('D', 'sum by (app_key, type, platform, channel) (jpush_message_channel_displayed{app_key=~"$app_key", msg_id=~"$message"})', '__auto', instant=true, format='table'),
        p.target('E', 'sum by (app_key, type, platform, channel) (jpush_message_channel_clicked{app_key=~"$app_key", msg_id=~"$message"})', '__auto', instant=true, format='table'),
        p.target('F', "sum by (app_key, type, platform, channel) (jpush_message_channel_received{app_key=~\"$app_key\", msg_id=~\"$message\"} and jpush_message_channel_sent{app_key=~\"$app_key\", msg_id=~\"$message\"})\n/\n(sum by (app_key, type, platform, channel) (jpush_message_channel_sent{app_key=~\"$app_key\", msg_id=~\"$message\"} and jpush_message_channel_received{app_key=~\"$app_key\", msg_id=~\"$message\"}) > 0)", '__auto', instant=true, format='table'),
        p.target('G', "sum by (app_key, type, platform, channel) (jpush_message_channel_clicked{app_key=~\"$app_key\", msg_id=~\"$message\"} and jpush_message_channel_received{app_key=~\"$app_key\", msg_id=~\"$message\"})\n/\n(sum by (app_key, type, platform, channel) (jpush_message_channel_received{app_key=~\"$app_key\", msg_id=~\"$message\"} and jpush_message_channel_clicked{app_key=~\"$app_key\", msg_id=~\"$message\"}) > 0)", '__auto', instant=true, format='table'),
      ]) + {
      transformations: [
        { id: 'merge', options: {} },
        {
          id: 'organize',
          options: {
            excludeByName: { Time: true, __name__: true, job: true, instance: true },
            indexByName: {
              app_key: 0,
              type: 1,
              platform: 2,
              channel: 3,
              'Value #A': 4,
              'Value #B': 5,
              'Value #C': 6,
              'Value #D': 7,
              'Value #E': 8,
              'Value #F': 9,
              'Value #G': 10,
            },
            renameByName: {
              'Value #A': 'Target',
              'Value #B': 'Sent',
              'Value #C': 'Received',
              'Value #D': 'Displayed',
              'Value #E': 'Clicked',
              'Value #F': 'Reach',
              'Value #G': 'Click rate',
            },
          },
        },
      ],
    },
    p.panel('timeseries', 19, 'Reach per channel (received / sent)',
      'Received / sent per message type, platform and channel over the selected messages, as the recording rule `app_key_type_platform_channel:jpush_message_channel_received_per_sent:ratio`.',
      { h: 9, w: 12, x: 0, y: 86 }, fieldConfigs.timeseriesPercentunit, options.timeseries, [
        p.target('A', "sum by (app_key, type, platform, channel) (jpush_message_channel_received{app_key=~\"$app_key\", msg_id=~\"$message\"} and jpush_message_channel_sent{app_key=~\"$app_key\", msg_id=~\"$message\"})\n/\n(sum by (app_key, type, platform, channel) (jpush_message_channel_sent{app_key=~\"$app_key\", msg_id=~\"$message\"} and jpush_message_channel_received{app_key=~\"$app_key\", msg_id=~\"$message\"}) > 0)", '{{app_key}} {{type}} {{platform}}/{{channel}}'),
      ]),
    p.panel('timeseries', 20, 'Click rate per channel (clicked / received)',
      'Clicked / received per message type, platform and channel over the selected messages, as the recording rule `app_key_type_platform_channel:jpush_message_channel_clicked_per_received:ratio`.',
      { h: 9, w: 12, x: 12, y: 86 }, fieldConfigs.timeseriesPercentunit, options.timeseries, [
        p.target('A', "sum by (app_key, type, platform, channel) (jpush_message_channel_clicked{app_key=~\"$app_key\", msg_id=~\"$message\"} and jpush_message_channel_received{app_key=~\"$app_key\", msg_id=~\"$message\"})\n/\n(sum by (app_key, type, platform, channel) (jpush_message_channel_received{app_key=~\"$app_key\", msg_id=~\"$message\"} and jpush_message_channel_clicked{app_key=~\"$app_key\", msg_id=~\"$message\"}) > 0)", '{{app_key}} {{type}} {{platform}}/{{channel}}'),
      ]),
    p.row(21, 'JPush: canary devices (/v3/status/message) and users (/v3/users, VIP)', 95),
    p.panel('bargauge', 22, 'Canary devices per status',
      'How many of the configured canary registration IDs are in each delivery status for each selected message (`jpush_message_devices`): delivered, not_delivered, not_in_app, not_targeted, system_error.',
      { h: 9, w: 6, x: 0, y: 96 }, fieldConfigs.bargaugeShort, options.bargauge, [
        p.target('A', 'sum by (app_key, msg_id, status) (jpush_message_devices{app_key=~"$app_key", msg_id=~"$message"})', '{{app_key}} {{msg_id}} {{status}}', instant=true),
      ]),
    p.panel('timeseries', 23, 'New users',
      'New users per platform on the latest complete day of /v3/users (`jpush_users_new`; the day is `jpush_users_day_timestamp_seconds`).',
      { h: 9, w: 6, x: 6, y: 96 }, fieldConfigs.timeseriesShort, options.timeseries, [
        p.target('A', 'jpush_users_new{app_key=~"$app_key"}', '{{app_key}} {{platform}}'),
      ]),
    p.panel('timeseries', 24, 'Online users',
      'Online users per platform on the latest complete day of /v3/users (`jpush_users_online`; the day is `jpush_users_day_timestamp_seconds`).',
      { h: 9, w: 6, x: 12, y: 96 }, fieldConfigs.timeseriesShort, options.timeseries, [
        p.target('A', 'jpush_users_online{app_key=~"$app_key"}', '{{app_key}} {{platform}}'),
      ]),
    p.panel('timeseries', 25, 'Active users',
      'Active users per platform on the latest complete day of /v3/users (`jpush_users_active`; the day is `jpush_users_day_timestamp_seconds`).',
      { h: 9, w: 6, x: 18, y: 96 }, fieldConfigs.timeseriesShort, options.timeseries, [
        p.target('A', 'jpush_users_active{app_key=~"$app_key"}', '{{app_key}} {{platform}}'),
      ]),
  ],
}
