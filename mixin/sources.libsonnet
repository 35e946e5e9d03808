// The exporter's sources, one row each: the `source` label's value (name),
// the configuration section whose apps it serves (section), the vendor whose
// API it calls (vendor, api) and the kind of tracked ID it polls (id_kind,
// empty for a source that asks once per app). The mixin reads its list of
// sources from here only.
[
  { name: 'tencent_operations', section: 'tencent_im', vendor: 'tencent_im', api: 'v4/openconfigsvr/getappinfo', id_kind: '' },
  { name: 'tencent_push', section: 'tencent_im', vendor: 'tencent_im', api: 'v4/timpush/all_member_push_statistics', id_kind: 'tencent_push' },
  { name: 'tencent_normal_push', section: 'tencent_im', vendor: 'tencent_im', api: 'v4/timpush/normal_push_statistics', id_kind: '' },
  { name: 'jpush_received', section: 'jpush', vendor: 'jpush', api: '/v3/received/detail', id_kind: 'jpush_messages' },
  { name: 'jpush_messages', section: 'jpush', vendor: 'jpush', api: '/v3/messages/detail', id_kind: 'jpush_messages' },
  { name: 'jpush_users', section: 'jpush', vendor: 'jpush', api: '/v3/users', id_kind: '' },
  { name: 'jpush_group_messages', section: 'jpush_groups', vendor: 'jpush', api: '/v3/group/messages/detail', id_kind: 'jpush_group_messages' },
  { name: 'jpush_group_users', section: 'jpush_groups', vendor: 'jpush', api: '/v3/group/users', id_kind: '' },
  { name: 'jpush_status', section: 'jpush', vendor: 'jpush', api: '/v3/status/message', id_kind: 'jpush_messages' },
]
