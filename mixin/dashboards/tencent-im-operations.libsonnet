// The Tencent IM operations dashboard: the daily figures of getappinfo.
// Its queries get the mixin's selector and the job and instance variables
// in dashboards.libsonnet.
local p = import '../lib/panels.libsonnet';

// fieldConfig and options shared by panels, by panel type and unit.
local fieldConfigs = {
  tableNone: {
    defaults: { unit: 'none', mappings: [], custom: { align: 'auto', filterable: true } },
    overrides: [],
  },
  statDatetimeasiso: {
    defaults: {
      unit: 'dateTimeAsIso',
      mappings: [],
      color: { mode: 'thresholds' },
      thresholds: { mode: 'absolute', steps: [{ color: 'blue', value: null }] },
    },
    overrides: [],
  },
  statNone: {
    defaults: {
      unit: 'none',
      mappings: [
        {
          type: 'value',
          options: {
            '0': { text: 'Failing', color: 'red', index: 0 },
            '1': { text: 'OK', color: 'green', index: 1 },
          },
        },
      ],
      color: { mode: 'thresholds' },
      thresholds: { mode: 'absolute', steps: [{ color: 'red', value: null }, { color: 'green', value: 1 }] },
    },
    overrides: [],
  },
  statShort: {
    defaults: {
      unit: 'short',
      mappings: [],
      color: { mode: 'thresholds' },
      thresholds: { mode: 'absolute', steps: [{ color: 'blue', value: null }] },
    },
    overrides: [
      {
        matcher: { id: 'byFrameRefID', options: 'B' },
        properties: [
          { id: 'unit', value: 'percentunit' },
          { id: 'decimals', value: 1 },
          { id: 'color', value: { mode: 'fixed', fixedColor: 'text' } },
        ],
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
    },
    overrides: [],
  },
};
local options = {
  table: { showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], fields: '' } },
  stat: {
    reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
    colorMode: 'value',
    graphMode: 'none',
    textMode: 'value_and_name',
    justifyMode: 'auto',
    orientation: 'auto',
  },
  stat2: {
    reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
    colorMode: 'value',
    graphMode: 'area',
    textMode: 'value_and_name',
    justifyMode: 'auto',
    orientation: 'auto',
  },
  timeseries: {
    legend: { displayMode: 'table', placement: 'bottom', calcs: ['lastNotNull', 'max'] },
    tooltip: { mode: 'multi', sort: 'desc' },
  },
};

p.dashboard('imstats-tencent-im-operations', 'Tencent IM operations', 'Tencent Cloud IM daily operations data (v4/openconfigsvr/getappinfo) as the vendor console shows it, with day-over-day changes. Exported by imstats_exporter.', 'now-2d') + {
  templating: { list: [
    p.datasourceVariable,
    p.variable('sdkappid', 'SDKAppID', 'Tencent IM applications (SDKAppID) the exporter reports operations data for.', 'label_values(tencent_im_app_info{}, sdkappid)'),
  ] },
  panels: [
    p.row(1, 'Application', 0),
    p.panel('table', 2, 'Applications',
      'The apps getappinfo reports (AppName, Company), from `tencent_im_app_info`.',
      { h: 5, w: 10, x: 0, y: 1 }, fieldConfigs.tableNone, options.table, [
        p.target('A', 'tencent_im_app_info{sdkappid=~"$sdkappid"}', '__auto', instant=true, format='table'),
      ]) + {
      transformations: [
        { id: 'merge', options: {} },
        {
          id: 'organize',
          options: {
            excludeByName: { Time: true, __name__: true, job: true, instance: true, 'Value #A': true },
            indexByName: { sdkappid: 0, app_name: 1, company: 2, 'Value #A': 3 },
            renameByName: { 'Value #A': 'Info' },
          },
        },
      ],
    },
    p.panel('stat', 3, 'Data day',
      'Start of the day (`Date`, Beijing time by default) the operations figures belong to, from `tencent_im_operations_day_timestamp_seconds`.',
      { h: 5, w: 7, x: 10, y: 1 }, fieldConfigs.statDatetimeasiso, options.stat, [
        p.target('A', 'tencent_im_operations_day_timestamp_seconds{sdkappid=~"$sdkappid"} * 1000', '{{sdkappid}}'),
      ]),
    p.panel('stat', 4, 'Operations refresh',
      "Whether the exporter's last getappinfo refresh succeeded (`imstats_exporter_refresh_success{source=\"tencent_operations\"}`); when it fails the panels show the last good values.",
      { h: 5, w: 7, x: 17, y: 1 }, fieldConfigs.statNone, options.stat, [
        p.target('A', 'imstats_exporter_refresh_success{source="tencent_operations", app=~"$sdkappid"}', '{{app}}'),
      ]),
    p.row(5, 'Users', 6),
    p.panel('stat', 6, 'Active users',
      'Active users of the day (getappinfo `ActiveUserNum`, metric `tencent_im_active_users`), per SDKAppID. The value is the latest day getappinfo reports (Beijing time), refreshed during the day; the second figure is the change against the same series 24 hours earlier (offset 1d).',
      { h: 5, w: 4, x: 0, y: 7 }, fieldConfigs.statShort, options.stat2, [
        p.target('A', 'tencent_im_active_users{sdkappid=~"$sdkappid"}', '{{sdkappid}}'),
        p.target('B', '(tencent_im_active_users{sdkappid=~"$sdkappid"} - tencent_im_active_users{sdkappid=~"$sdkappid"} offset 1d) / (tencent_im_active_users{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} vs 1d ago'),
      ]),
    p.panel('stat', 7, 'New registrations',
      'Users registered that day (getappinfo `RegistUserNumOneDay`, metric `tencent_im_new_registered_users`), per SDKAppID. The value is the latest day getappinfo reports (Beijing time), refreshed during the day; the second figure is the change against the same series 24 hours earlier (offset 1d).',
      { h: 5, w: 4, x: 4, y: 7 }, fieldConfigs.statShort, options.stat2, [
        p.target('A', 'tencent_im_new_registered_users{sdkappid=~"$sdkappid"}', '{{sdkappid}}'),
        p.target('B', '(tencent_im_new_registered_users{sdkappid=~"$sdkappid"} - tencent_im_new_registered_users{sdkappid=~"$sdkappid"} offset 1d) / (tencent_im_new_registered_users{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} vs 1d ago'),
      ]),
    p.panel('stat', 8, 'Registered users',
      'All registered users (getappinfo `RegistUserNumTotal`, metric `tencent_im_registered_users`), per SDKAppID. The value is the latest day getappinfo reports (Beijing time), refreshed during the day; the second figure is the change against the same series 24 hours earlier (offset 1d).',
      { h: 5, w: 4, x: 8, y: 7 }, fieldConfigs.statShort, options.stat2, [
        p.target('A', 'tencent_im_registered_users{sdkappid=~"$sdkappid"}', '{{sdkappid}}'),
        p.target('B', '(tencent_im_registered_users{sdkappid=~"$sdkappid"} - tencent_im_registered_users{sdkappid=~"$sdkappid"} offset 1d) / (tencent_im_registered_users{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} vs 1d ago'),
      ]),
    p.panel('stat', 9, 'Logins',
      'Logins of the day (getappinfo `LoginTimes`, metric `tencent_im_logins`), per SDKAppID. The value is the latest day getappinfo reports (Beijing time), refreshed during the day; the second figure is the change against the same series 24 hours earlier (offset 1d).',
      { h: 5, w: 4, x: 12, y: 7 }, fieldConfigs.statShort, options.stat2, [
        p.target('A', 'tencent_im_logins{sdkappid=~"$sdkappid"}', '{{sdkappid}}'),
        p.target('B', '(tencent_im_logins{sdkappid=~"$sdkappid"} - tencent_im_logins{sdkappid=~"$sdkappid"} offset 1d) / (tencent_im_logins{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} vs 1d ago'),
      ]),
    p.panel('stat', 10, 'Logged-in users',
      'Users who logged in that day (getappinfo `LoginUserNum`, metric `tencent_im_login_users`), per SDKAppID. The value is the latest day getappinfo reports (Beijing time), refreshed during the day; the second figure is the change against the same series 24 hours earlier (offset 1d).',
      { h: 5, w: 4, x: 16, y: 7 }, fieldConfigs.statShort, options.stat2, [
        p.target('A', 'tencent_im_login_users{sdkappid=~"$sdkappid"}', '{{sdkappid}}'),
        p.target('B', '(tencent_im_login_users{sdkappid=~"$sdkappid"} - tencent_im_login_users{sdkappid=~"$sdkappid"} offset 1d) / (tencent_im_login_users{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} vs 1d ago'),
      ]),
    p.panel('stat', 11, 'Peak online users',
      'Highest number of users online at once that day (getappinfo `MaxOnlineNum`, metric `tencent_im_max_online_users`), per SDKAppID. The value is the latest day getappinfo reports (Beijing time), refreshed during the day; the second figure is the change against the same series 24 hours earlier (offset 1d).',
      { h: 5, w: 4, x: 20, y: 7 }, fieldConfigs.statShort, options.stat2, [
        p.target('A', 'tencent_im_max_online_users{sdkappid=~"$sdkappid"}', '{{sdkappid}}'),
        p.target('B', '(tencent_im_max_online_users{sdkappid=~"$sdkappid"} - tencent_im_max_online_users{sdkappid=~"$sdkappid"} offset 1d) / (tencent_im_max_online_users{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} vs 1d ago'),
      ]),
    p.panel('timeseries', 12, 'Active and logged-in users',
      'Active and logged-in users: `tencent_im_active_users`, `tencent_im_login_users`, each next to its own value 24 hours earlier (offset 1d). The series are daily totals that grow during the day and restart at midnight Beijing time.',
      { h: 8, w: 12, x: 0, y: 12 }, fieldConfigs.timeseriesShort, options.timeseries, [
        p.target('A', 'tencent_im_active_users{sdkappid=~"$sdkappid"}', '{{sdkappid}} active'),
        p.target('B', 'tencent_im_active_users{sdkappid=~"$sdkappid"} offset 1d', '{{sdkappid}} active (1d earlier)'),
        p.target('C', 'tencent_im_login_users{sdkappid=~"$sdkappid"}', '{{sdkappid}} logged in'),
        p.target('D', 'tencent_im_login_users{sdkappid=~"$sdkappid"} offset 1d', '{{sdkappid}} logged in (1d earlier)'),
      ]),
    p.panel('timeseries', 13, 'Peak online users and new registrations',
      'Peak online users and new registrations: `tencent_im_max_online_users`, `tencent_im_new_registered_users`, each next to its own value 24 hours earlier (offset 1d). The series are daily totals that grow during the day and restart at midnight Beijing time.',
      { h: 8, w: 12, x: 12, y: 12 }, fieldConfigs.timeseriesShort, options.timeseries, [
        p.target('A', 'tencent_im_max_online_users{sdkappid=~"$sdkappid"}', '{{sdkappid}} peak online'),
        p.target('B', 'tencent_im_max_online_users{sdkappid=~"$sdkappid"} offset 1d', '{{sdkappid}} peak online (1d earlier)'),
        p.target('C', 'tencent_im_new_registered_users{sdkappid=~"$sdkappid"}', '{{sdkappid}} registered'),
        p.target('D', 'tencent_im_new_registered_users{sdkappid=~"$sdkappid"} offset 1d', '{{sdkappid}} registered (1d earlier)'),
      ]),
    p.row(14, 'Messages', 20),
    p.panel('stat', 15, 'Upstream messages',
      'Messages sent by clients (C2C and group) (getappinfo `UpMsgNum`, metric `tencent_im_upstream_messages`), per SDKAppID. The value is the latest day getappinfo reports (Beijing time), refreshed during the day; the second figure is the change against the same series 24 hours earlier (offset 1d).',
      { h: 5, w: 6, x: 0, y: 21 }, fieldConfigs.statShort, options.stat2, [
        p.target('A', 'tencent_im_upstream_messages{sdkappid=~"$sdkappid"}', '{{sdkappid}}'),
        p.target('B', '(tencent_im_upstream_messages{sdkappid=~"$sdkappid"} - tencent_im_upstream_messages{sdkappid=~"$sdkappid"} offset 1d) / (tencent_im_upstream_messages{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} vs 1d ago'),
      ]),
    p.panel('stat', 16, 'Downstream messages',
      'Messages delivered to clients (C2C and group) (getappinfo `DownMsgNum`, metric `tencent_im_downstream_messages`), per SDKAppID. The value is the latest day getappinfo reports (Beijing time), refreshed during the day; the second figure is the change against the same series 24 hours earlier (offset 1d).',
      { h: 5, w: 6, x: 6, y: 21 }, fieldConfigs.statShort, options.stat2, [
        p.target('A', 'tencent_im_downstream_messages{sdkappid=~"$sdkappid"}', '{{sdkappid}}'),
        p.target('B', '(tencent_im_downstream_messages{sdkappid=~"$sdkappid"} - tencent_im_downstream_messages{sdkappid=~"$sdkappid"} offset 1d) / (tencent_im_downstream_messages{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} vs 1d ago'),
      ]),
    p.panel('stat', 17, 'Message senders',
      'Users who sent a message (getappinfo `SendMsgUserNum`, metric `tencent_im_message_senders`), per SDKAppID. The value is the latest day getappinfo reports (Beijing time), refreshed during the day; the second figure is the change against the same series 24 hours earlier (offset 1d).',
      { h: 5, w: 6, x: 12, y: 21 }, fieldConfigs.statShort, options.stat2, [
        p.target('A', 'tencent_im_message_senders{sdkappid=~"$sdkappid"}', '{{sdkappid}}'),
        p.target('B', '(tencent_im_message_senders{sdkappid=~"$sdkappid"} - tencent_im_message_senders{sdkappid=~"$sdkappid"} offset 1d) / (tencent_im_message_senders{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} vs 1d ago'),
      ]),
    p.panel('stat', 18, 'APNs pushes',
      'Messages pushed through APNs (getappinfo `APNSMsgNum`, metric `tencent_im_apns_messages`), per SDKAppID. The value is the latest day getappinfo reports (Beijing time), refreshed during the day; the second figure is the change against the same series 24 hours earlier (offset 1d).',
      { h: 5, w: 6, x: 18, y: 21 }, fieldConfigs.statShort, options.stat2, [
        p.target('A', 'tencent_im_apns_messages{sdkappid=~"$sdkappid"}', '{{sdkappid}}'),
        p.target('B', '(tencent_im_apns_messages{sdkappid=~"$sdkappid"} - tencent_im_apns_messages{sdkappid=~"$sdkappid"} offset 1d) / (tencent_im_apns_messages{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} vs 1d ago'),
      ]),
    p.panel('stat', 19, 'C2C upstream',
      'One-to-one messages sent (getappinfo `C2CUpMsgNum`, metric `tencent_im_c2c_upstream_messages`), per SDKAppID. The value is the latest day getappinfo reports (Beijing time), refreshed during the day; the second figure is the change against the same series 24 hours earlier (offset 1d).',
      { h: 5, w: 6, x: 0, y: 26 }, fieldConfigs.statShort, options.stat2, [
        p.target('A', 'tencent_im_c2c_upstream_messages{sdkappid=~"$sdkappid"}', '{{sdkappid}}'),
        p.target('B', '(tencent_im_c2c_upstream_messages{sdkappid=~"$sdkappid"} - tencent_im_c2c_upstream_messages{sdkappid=~"$sdkappid"} offset 1d) / (tencent_im_c2c_upstream_messages{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} vs 1d ago'),
      ]),
    p.panel('stat', 20, 'C2C downstream',
      'One-to-one messages delivered (getappinfo `C2CDownMsgNum`, metric `tencent_im_c2c_downstream_messages`), per SDKAppID. The value is the latest day getappinfo reports (Beijing time), refreshed during the day; the second figure is the change against the same series 24 hours earlier (offset 1d).',
      { h: 5, w: 6, x: 6, y: 26 }, fieldConfigs.statShort, options.stat2, [
        p.target('A', 'tencent_im_c2c_downstream_messages{sdkappid=~"$sdkappid"}', '{{sdkappid}}'),
        p.target('B', '(tencent_im_c2c_downstream_messages{sdkappid=~"$sdkappid"} - tencent_im_c2c_downstream_messages{sdkappid=~"$sdkappid"} offset 1d) / (tencent_im_c2c_downstream_messages{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} vs 1d ago'),
      ]),
    p.panel('stat', 21, 'C2C senders',
      'Users who sent a one-to-one message (getappinfo `C2CSendMsgUserNum`, metric `tencent_im_c2c_message_senders`), per SDKAppID. The value is the latest day getappinfo reports (Beijing time), refreshed during the day; the second figure is the change against the same series 24 hours earlier (offset 1d).',
      { h: 5, w: 6, x: 12, y: 26 }, fieldConfigs.statShort, options.stat2, [
        p.target('A', 'tencent_im_c2c_message_senders{sdkappid=~"$sdkappid"}', '{{sdkappid}}'),
        p.target('B', '(tencent_im_c2c_message_senders{sdkappid=~"$sdkappid"} - tencent_im_c2c_message_senders{sdkappid=~"$sdkappid"} offset 1d) / (tencent_im_c2c_message_senders{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} vs 1d ago'),
      ]),
    p.panel('stat', 22, 'C2C APNs pushes',
      'One-to-one messages pushed through APNs (getappinfo `C2CAPNSMsgNum`, metric `tencent_im_c2c_apns_messages`), per SDKAppID. The value is the latest day getappinfo reports (Beijing time), refreshed during the day; the second figure is the change against the same series 24 hours earlier (offset 1d).',
      { h: 5, w: 6, x: 18, y: 26 }, fieldConfigs.statShort, options.stat2, [
        p.target('A', 'tencent_im_c2c_apns_messages{sdkappid=~"$sdkappid"}', '{{sdkappid}}'),
        p.target('B', '(tencent_im_c2c_apns_messages{sdkappid=~"$sdkappid"} - tencent_im_c2c_apns_messages{sdkappid=~"$sdkappid"} offset 1d) / (tencent_im_c2c_apns_messages{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} vs 1d ago'),
      ]),
    p.panel('stat', 23, 'Group upstream',
      'Group messages sent (getappinfo `GroupUpMsgNum`, metric `tencent_im_group_upstream_messages`), per SDKAppID. The value is the latest day getappinfo reports (Beijing time), refreshed during the day; the second figure is the change against the same series 24 hours earlier (offset 1d).',
      { h: 5, w: 6, x: 0, y: 31 }, fieldConfigs.statShort, options.stat2, [
        p.target('A', 'tencent_im_group_upstream_messages{sdkappid=~"$sdkappid"}', '{{sdkappid}}'),
        p.target('B', '(tencent_im_group_upstream_messages{sdkappid=~"$sdkappid"} - tencent_im_group_upstream_messages{sdkappid=~"$sdkappid"} offset 1d) / (tencent_im_group_upstream_messages{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} vs 1d ago'),
      ]),
    p.panel('stat', 24, 'Group downstream',
      'Group messages delivered (getappinfo `GroupDownMsgNum`, metric `tencent_im_group_downstream_messages`), per SDKAppID. The value is the latest day getappinfo reports (Beijing time), refreshed during the day; the second figure is the change against the same series 24 hours earlier (offset 1d).',
      { h: 5, w: 6, x: 6, y: 31 }, fieldConfigs.statShort, options.stat2, [
        p.target('A', 'tencent_im_group_downstream_messages{sdkappid=~"$sdkappid"}', '{{sdkappid}}'),
        p.target('B', '(tencent_im_group_downstream_messages{sdkappid=~"$sdkappid"} - tencent_im_group_downstream_messages{sdkappid=~"$sdkappid"} offset 1d) / (tencent_im_group_downstream_messages{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} vs 1d ago'),
      ]),
    p.panel('stat', 25, 'Group senders',
      'Users who sent a group message (getappinfo `GroupSendMsgUserNum`, metric `tencent_im_group_message_senders`), per SDKAppID. The value is the latest day getappinfo reports (Beijing time), refreshed during the day; the second figure is the change against the same series 24 hours earlier (offset 1d).',
      { h: 5, w: 6, x: 12, y: 31 }, fieldConfigs.statShort, options.stat2, [
        p.target('A', 'tencent_im_group_message_senders{sdkappid=~"$sdkappid"}', '{{sdkappid}}'),
        p.target('B', '(tencent_im_group_message_senders{sdkappid=~"$sdkappid"} - tencent_im_group_message_senders{sdkappid=~"$sdkappid"} offset 1d) / (tencent_im_group_message_senders{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} vs 1d ago'),
      ]),
    p.panel('stat', 26, 'Group APNs pushes',
      'Group messages pushed through APNs (getappinfo `GroupAPNSMsgNum`, metric `tencent_im_group_apns_messages`), per SDKAppID. The value is the latest day getappinfo reports (Beijing time), refreshed during the day; the second figure is the change against the same series 24 hours earlier (offset 1d).',
      { h: 5, w: 6, x: 18, y: 31 }, fieldConfigs.statShort, options.stat2, [
        p.target('A', 'tencent_im_group_apns_messages{sdkappid=~"$sdkappid"}', '{{sdkappid}}'),
        p.target('B', '(tencent_im_group_apns_messages{sdkappid=~"$sdkappid"} - tencent_im_group_apns_messages{sdkappid=~"$sdkappid"} offset 1d) / (tencent_im_group_apns_messages{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} vs 1d ago'),
      ]),
    p.panel('timeseries', 27, 'C2C messages up and down',
      'One-to-one messages sent and delivered: `tencent_im_c2c_upstream_messages`, `tencent_im_c2c_downstream_messages`, each next to its own value 24 hours earlier (offset 1d). The series are daily totals that grow during the day and restart at midnight Beijing time.',
      { h: 8, w: 12, x: 0, y: 36 }, fieldConfigs.timeseriesShort, options.timeseries, [
        p.target('A', 'tencent_im_c2c_upstream_messages{sdkappid=~"$sdkappid"}', '{{sdkappid}} up'),
        p.target('B', 'tencent_im_c2c_upstream_messages{sdkappid=~"$sdkappid"} offset 1d', '{{sdkappid}} up (1d earlier)'),
        p.target('C', 'tencent_im_c2c_downstream_messages{sdkappid=~"$sdkappid"}', '{{sdkappid}} down'),
        p.target('D', 'tencent_im_c2c_downstream_messages{sdkappid=~"$sdkappid"} offset 1d', '{{sdkappid}} down (1d earlier)'),
      ]),
    p.panel('timeseries', 28, 'Group messages up and down',
      'Group messages sent and delivered: `tencent_im_group_upstream_messages`, `tencent_im_group_downstream_messages`, each next to its own value 24 hours earlier (offset 1d). The series are daily totals that grow during the day and restart at midnight Beijing time.',
      { h: 8, w: 12, x: 12, y: 36 }, fieldConfigs.timeseriesShort, options.timeseries, [
        p.target('A', 'tencent_im_group_upstream_messages{sdkappid=~"$sdkappid"}', '{{sdkappid}} up'),
        p.target('B', 'tencent_im_group_upstream_messages{sdkappid=~"$sdkappid"} offset 1d', '{{sdkappid}} up (1d earlier)'),
        p.target('C', 'tencent_im_group_downstream_messages{sdkappid=~"$sdkappid"}', '{{sdkappid}} down'),
        p.target('D', 'tencent_im_group_downstream_messages{sdkappid=~"$sdkappid"} offset 1d', '{{sdkappid}} down (1d earlier)'),
      ]),
    p.row(29, 'Groups', 44),
    p.panel('stat', 30, 'Groups',
      'All groups (getappinfo `GroupAllGroupNum`, metric `tencent_im_groups`), per SDKAppID. The value is the latest day getappinfo reports (Beijing time), refreshed during the day; the second figure is the change against the same series 24 hours earlier (offset 1d).',
      { h: 5, w: 4, x: 0, y: 45 }, fieldConfigs.statShort, options.stat2, [
        p.target('A', 'tencent_im_groups{sdkappid=~"$sdkappid"}', '{{sdkappid}}'),
        p.target('B', '(tencent_im_groups{sdkappid=~"$sdkappid"} - tencent_im_groups{sdkappid=~"$sdkappid"} offset 1d) / (tencent_im_groups{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} vs 1d ago'),
      ]),
    p.panel('stat', 31, 'Groups created',
      'Groups created that day (getappinfo `GroupNewGroupNum`, metric `tencent_im_groups_created`), per SDKAppID. The value is the latest day getappinfo reports (Beijing time), refreshed during the day; the second figure is the change against the same series 24 hours earlier (offset 1d).',
      { h: 5, w: 4, x: 4, y: 45 }, fieldConfigs.statShort, options.stat2, [
        p.target('A', 'tencent_im_groups_created{sdkappid=~"$sdkappid"}', '{{sdkappid}}'),
        p.target('B', '(tencent_im_groups_created{sdkappid=~"$sdkappid"} - tencent_im_groups_created{sdkappid=~"$sdkappid"} offset 1d) / (tencent_im_groups_created{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} vs 1d ago'),
      ]),
    p.panel('stat', 32, 'Groups destroyed',
      'Groups disbanded that day (getappinfo `GroupDestroyGroupNum`, metric `tencent_im_groups_destroyed`), per SDKAppID. The value is the latest day getappinfo reports (Beijing time), refreshed during the day; the second figure is the change against the same series 24 hours earlier (offset 1d).',
      { h: 5, w: 4, x: 8, y: 45 }, fieldConfigs.statShort, options.stat2, [
        p.target('A', 'tencent_im_groups_destroyed{sdkappid=~"$sdkappid"}', '{{sdkappid}}'),
        p.target('B', '(tencent_im_groups_destroyed{sdkappid=~"$sdkappid"} - tencent_im_groups_destroyed{sdkappid=~"$sdkappid"} offset 1d) / (tencent_im_groups_destroyed{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} vs 1d ago'),
      ]),
    p.panel('stat', 33, 'Groups with messages',
      'Groups in which a message was sent (getappinfo `GroupSendMsgGroupNum`, metric `tencent_im_groups_with_messages`), per SDKAppID. The value is the latest day getappinfo reports (Beijing time), refreshed during the day; the second figure is the change against the same series 24 hours earlier (offset 1d).',
      { h: 5, w: 4, x: 12, y: 45 }, fieldConfigs.statShort, options.stat2, [
        p.target('A', 'tencent_im_groups_with_messages{sdkappid=~"$sdkappid"}', '{{sdkappid}}'),
        p.target('B', '(tencent_im_groups_with_messages{sdkappid=~"$sdkappid"} - tencent_im_groups_with_messages{sdkappid=~"$sdkappid"} offset 1d) / (tencent_im_groups_with_messages{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} vs 1d ago'),
      ]),
    p.panel('stat', 34, 'Group joins',
      'Times a user joined a group (getappinfo `GroupJoinGroupTimes`, metric `tencent_im_group_joins`), per SDKAppID. The value is the latest day getappinfo reports (Beijing time), refreshed during the day; the second figure is the change against the same series 24 hours earlier (offset 1d).',
      { h: 5, w: 4, x: 16, y: 45 }, fieldConfigs.statShort, options.stat2, [
        p.target('A', 'tencent_im_group_joins{sdkappid=~"$sdkappid"}', '{{sdkappid}}'),
        p.target('B', '(tencent_im_group_joins{sdkappid=~"$sdkappid"} - tencent_im_group_joins{sdkappid=~"$sdkappid"} offset 1d) / (tencent_im_group_joins{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} vs 1d ago'),
      ]),
    p.panel('stat', 35, 'Group quits',
      'Times a user left a group (getappinfo `GroupQuitGroupTimes`, metric `tencent_im_group_quits`), per SDKAppID. The value is the latest day getappinfo reports (Beijing time), refreshed during the day; the second figure is the change against the same series 24 hours earlier (offset 1d).',
      { h: 5, w: 4, x: 20, y: 45 }, fieldConfigs.statShort, options.stat2, [
        p.target('A', 'tencent_im_group_quits{sdkappid=~"$sdkappid"}', '{{sdkappid}}'),
        p.target('B', '(tencent_im_group_quits{sdkappid=~"$sdkappid"} - tencent_im_group_quits{sdkappid=~"$sdkappid"} offset 1d) / (tencent_im_group_quits{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} vs 1d ago'),
      ]),
    p.panel('timeseries', 36, 'Groups created and destroyed',
      'Groups created and disbanded: `tencent_im_groups_created`, `tencent_im_groups_destroyed`, each next to its own value 24 hours earlier (offset 1d). The series are daily totals that grow during the day and restart at midnight Beijing time.',
      { h: 8, w: 12, x: 0, y: 50 }, fieldConfigs.timeseriesShort, options.timeseries, [
        p.target('A', 'tencent_im_groups_created{sdkappid=~"$sdkappid"}', '{{sdkappid}} created'),
        p.target('B', 'tencent_im_groups_created{sdkappid=~"$sdkappid"} offset 1d', '{{sdkappid}} created (1d earlier)'),
        p.target('C', 'tencent_im_groups_destroyed{sdkappid=~"$sdkappid"}', '{{sdkappid}} destroyed'),
        p.target('D', 'tencent_im_groups_destroyed{sdkappid=~"$sdkappid"} offset 1d', '{{sdkappid}} destroyed (1d earlier)'),
      ]),
    p.panel('timeseries', 37, 'Group joins and quits',
      'Group joins and quits: `tencent_im_group_joins`, `tencent_im_group_quits`, each next to its own value 24 hours earlier (offset 1d). The series are daily totals that grow during the day and restart at midnight Beijing time.',
      { h: 8, w: 12, x: 12, y: 50 }, fieldConfigs.timeseriesShort, options.timeseries, [
        p.target('A', 'tencent_im_group_joins{sdkappid=~"$sdkappid"}', '{{sdkappid}} joins'),
        p.target('B', 'tencent_im_group_joins{sdkappid=~"$sdkappid"} offset 1d', '{{sdkappid}} joins (1d earlier)'),
        p.target('C', 'tencent_im_group_quits{sdkappid=~"$sdkappid"}', '{{sdkappid}} quits'),
        p.target('D', 'tencent_im_group_quits{sdkappid=~"$sdkappid"} offset 1d', '{{sdkappid}} quits (1d earlier)'),
      ]),
    p.row(38, 'Relationship chain and callbacks', 58),
    p.panel('stat', 39, 'Relationship chain increase',
      'Relationship chain pairs added (getappinfo `ChainIncrease`, metric `tencent_im_relationship_chain_increase`), per SDKAppID. The value is the latest day getappinfo reports (Beijing time), refreshed during the day; the second figure is the change against the same series 24 hours earlier (offset 1d).',
      { h: 5, w: 6, x: 0, y: 59 }, fieldConfigs.statShort, options.stat2, [
        p.target('A', 'tencent_im_relationship_chain_increase{sdkappid=~"$sdkappid"}', '{{sdkappid}}'),
        p.target('B', '(tencent_im_relationship_chain_increase{sdkappid=~"$sdkappid"} - tencent_im_relationship_chain_increase{sdkappid=~"$sdkappid"} offset 1d) / (tencent_im_relationship_chain_increase{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} vs 1d ago'),
      ]),
    p.panel('stat', 40, 'Relationship chain decrease',
      'Relationship chain pairs removed (getappinfo `ChainDecrease`, metric `tencent_im_relationship_chain_decrease`), per SDKAppID. The value is the latest day getappinfo reports (Beijing time), refreshed during the day; the second figure is the change against the same series 24 hours earlier (offset 1d).',
      { h: 5, w: 6, x: 6, y: 59 }, fieldConfigs.statShort, options.stat2, [
        p.target('A', 'tencent_im_relationship_chain_decrease{sdkappid=~"$sdkappid"}', '{{sdkappid}}'),
        p.target('B', '(tencent_im_relationship_chain_decrease{sdkappid=~"$sdkappid"} - tencent_im_relationship_chain_decrease{sdkappid=~"$sdkappid"} offset 1d) / (tencent_im_relationship_chain_decrease{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} vs 1d ago'),
      ]),
    p.panel('stat', 41, 'Callback requests',
      "Callback requests sent to the app's server (getappinfo `CallBackReq`, metric `tencent_im_callback_requests`), per SDKAppID. The value is the latest day getappinfo reports (Beijing time), refreshed during the day; the second figure is the change against the same series 24 hours earlier (offset 1d).",
      { h: 5, w: 6, x: 12, y: 59 }, fieldConfigs.statShort, options.stat2, [
        p.target('A', 'tencent_im_callback_requests{sdkappid=~"$sdkappid"}', '{{sdkappid}}'),
        p.target('B', '(tencent_im_callback_requests{sdkappid=~"$sdkappid"} - tencent_im_callback_requests{sdkappid=~"$sdkappid"} offset 1d) / (tencent_im_callback_requests{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} vs 1d ago'),
      ]),
    p.panel('stat', 42, 'Callback responses',
      "Callback responses received from the app's server (getappinfo `CallBackRsp`, metric `tencent_im_callback_responses`), per SDKAppID. The value is the latest day getappinfo reports (Beijing time), refreshed during the day; the second figure is the change against the same series 24 hours earlier (offset 1d).",
      { h: 5, w: 6, x: 18, y: 59 }, fieldConfigs.statShort, options.stat2, [
        p.target('A', 'tencent_im_callback_responses{sdkappid=~"$sdkappid"}', '{{sdkappid}}'),
        p.target('B', '(tencent_im_callback_responses{sdkappid=~"$sdkappid"} - tencent_im_callback_responses{sdkappid=~"$sdkappid"} offset 1d) / (tencent_im_callback_responses{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} vs 1d ago'),
      ]),
    p.panel('timeseries', 43, 'Callback requests and responses',
      "Callbacks sent to the app's server and its responses: `tencent_im_callback_requests`, `tencent_im_callback_responses`, each next to its own value 24 hours earlier (offset 1d). The series are daily totals that grow during the day and restart at midnight Beijing time.",
      { h: 8, w: 12, x: 0, y: 64 }, fieldConfigs.timeseriesShort, options.timeseries, [
        p.target('A', 'tencent_im_callback_requests{sdkappid=~"$sdkappid"}', '{{sdkappid}} requests'),
        p.target('B', 'tencent_im_callback_requests{sdkappid=~"$sdkappid"} offset 1d', '{{sdkappid}} requests (1d earlier)'),
        p.target('C', 'tencent_im_callback_responses{sdkappid=~"$sdkappid"}', '{{sdkappid}} responses'),
        p.target('D', 'tencent_im_callback_responses{sdkappid=~"$sdkappid"} offset 1d', '{{sdkappid}} responses (1d earlier)'),
      ]),
    p.panel('timeseries', 44, 'Callback responses per request',
      "Share of the callback requests the app's server answered that day: `tencent_im_callback_responses / tencent_im_callback_requests` (CallBackRsp / CallBackReq), next to the same ratio 24 hours earlier. A drop means the callback server is failing or slow.",
      { h: 8, w: 12, x: 12, y: 64 }, fieldConfigs.timeseriesPercentunit, options.timeseries, [
        p.target('A', 'tencent_im_callback_responses{sdkappid=~"$sdkappid"} / (tencent_im_callback_requests{sdkappid=~"$sdkappid"} > 0)', '{{sdkappid}}'),
        p.target('B', 'tencent_im_callback_responses{sdkappid=~"$sdkappid"} offset 1d / (tencent_im_callback_requests{sdkappid=~"$sdkappid"} offset 1d > 0)', '{{sdkappid}} (1d earlier)'),
      ]),
  ],
}
