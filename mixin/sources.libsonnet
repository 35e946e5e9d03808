// The exporter's sources, generated from internal/catalog by
// `go test ./internal/catalog -update`: do not edit.
{
  sources: [
    { name: "tencent_operations", section: "tencent_im", vendor: "tencent_im", api: "v4/openconfigsvr/getappinfo", idKind: null, onDemand: true, channelDetail: false },
    { name: "tencent_push", section: "tencent_im", vendor: "tencent_im", api: "v4/timpush/all_member_push_statistics", idKind: "tencent_push", onDemand: false, channelDetail: true },
    { name: "tencent_normal_push", section: "tencent_im", vendor: "tencent_im", api: "v4/timpush/normal_push_statistics", idKind: null, onDemand: true, channelDetail: false },
    { name: "tencent_push_loss", section: "tencent_im", vendor: "tencent_im", api: "v4/timpush/all_member_push_loss", idKind: "tencent_push", onDemand: false, channelDetail: true },
    { name: "tencent_normal_push_loss", section: "tencent_im", vendor: "tencent_im", api: "v4/timpush/normal_push_loss", idKind: null, onDemand: true, channelDetail: false },
    { name: "jpush_received", section: "jpush", vendor: "jpush", api: "/v3/received/detail", idKind: "jpush_messages", onDemand: false, channelDetail: true },
    { name: "jpush_messages", section: "jpush", vendor: "jpush", api: "/v3/messages/detail (VIP)", idKind: "jpush_messages", onDemand: false, channelDetail: true },
    { name: "jpush_users", section: "jpush", vendor: "jpush", api: "/v3/users (VIP)", idKind: null, onDemand: true, channelDetail: false },
    { name: "jpush_group_messages", section: "jpush_groups", vendor: "jpush", api: "/v3/group/messages/detail", idKind: "jpush_group_messages", onDemand: false, channelDetail: true },
    { name: "jpush_group_users", section: "jpush_groups", vendor: "jpush", api: "/v3/group/users", idKind: null, onDemand: true, channelDetail: false },
    { name: "jpush_status", section: "jpush", vendor: "jpush", api: "/v3/status/message for canary_registration_ids", idKind: "jpush_messages", onDemand: false, channelDetail: false },
  ],
}
