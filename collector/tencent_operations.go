package collector

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/imstats/imstats_exporter/internal/count"
	"github.com/imstats/imstats_exporter/internal/expo"
	"github.com/imstats/imstats_exporter/internal/tencentim"
)

// operationsField maps a getappinfo field to its metric.
type operationsField struct {
	Field string // getappinfo field name
	Name  string // metric name under tencent_im_
	Help  string
}

// OperationsFields lists the getappinfo fields with a metric of their own, in
// the order of the vendor's field list (Tencent Chat REST API "Pulling
// Operations Data", "Operations Data Fields That Can Be Pulled").
var OperationsFields = []operationsField{
	{"ActiveUserNum", "active_users", "Active users on the day (getappinfo ActiveUserNum)."},
	{"RegistUserNumOneDay", "new_registered_users", "Users newly registered on the day (getappinfo RegistUserNumOneDay)."},
	{"RegistUserNumTotal", "registered_users", "Registered users in total at the end of the day (getappinfo RegistUserNumTotal)."},
	{"LoginTimes", "logins", "Logins on the day (getappinfo LoginTimes)."},
	{"LoginUserNum", "login_users", "Users who logged in on the day (getappinfo LoginUserNum)."},
	{"UpMsgNum", "upstream_messages", "Upstream messages on the day (getappinfo UpMsgNum)."},
	{"SendMsgUserNum", "message_senders", "Users who sent messages on the day (getappinfo SendMsgUserNum)."},
	{"APNSMsgNum", "apns_messages", "Messages pushed through APNs on the day (getappinfo APNSMsgNum)."},
	{"C2CUpMsgNum", "c2c_upstream_messages", "Upstream one-to-one messages on the day (getappinfo C2CUpMsgNum)."},
	{"C2CDownMsgNum", "c2c_downstream_messages", "Downstream one-to-one messages on the day (getappinfo C2CDownMsgNum)."},
	{"C2CSendMsgUserNum", "c2c_message_senders", "Users who sent one-to-one messages on the day (getappinfo C2CSendMsgUserNum)."},
	{"C2CAPNSMsgNum", "c2c_apns_messages", "One-to-one messages pushed through APNs on the day (getappinfo C2CAPNSMsgNum)."},
	{"MaxOnlineNum", "max_online_users", "Peak concurrent online users on the day (getappinfo MaxOnlineNum)."},
	{"DownMsgNum", "downstream_messages", "Downstream one-to-one and group messages on the day (getappinfo DownMsgNum)."},
	{"ChainIncrease", "relationship_chain_increase", "Relationship chain pairs added on the day (getappinfo ChainIncrease)."},
	{"ChainDecrease", "relationship_chain_decrease", "Relationship chain pairs removed on the day (getappinfo ChainDecrease)."},
	{"GroupUpMsgNum", "group_upstream_messages", "Upstream group messages on the day (getappinfo GroupUpMsgNum)."},
	{"GroupDownMsgNum", "group_downstream_messages", "Downstream group messages on the day (getappinfo GroupDownMsgNum)."},
	{"GroupSendMsgUserNum", "group_message_senders", "Users who sent group messages on the day (getappinfo GroupSendMsgUserNum)."},
	{"GroupAPNSMsgNum", "group_apns_messages", "Group messages pushed through APNs on the day (getappinfo GroupAPNSMsgNum)."},
	{"GroupSendMsgGroupNum", "groups_with_messages", "Groups in which messages were sent on the day (getappinfo GroupSendMsgGroupNum)."},
	{"GroupJoinGroupTimes", "group_joins", "Group joins on the day (getappinfo GroupJoinGroupTimes)."},
	{"GroupQuitGroupTimes", "group_quits", "Group departures on the day (getappinfo GroupQuitGroupTimes)."},
	{"GroupNewGroupNum", "groups_created", "Groups created on the day (getappinfo GroupNewGroupNum)."},
	{"GroupAllGroupNum", "groups", "Groups in total at the end of the day (getappinfo GroupAllGroupNum)."},
	{"GroupDestroyGroupNum", "groups_destroyed", "Groups disbanded on the day (getappinfo GroupDestroyGroupNum)."},
	{"CallBackReq", "callback_requests", "Callback requests sent to the app's server on the day (getappinfo CallBackReq)."},
	{"CallBackRsp", "callback_responses", "Callback responses from the app's server on the day (getappinfo CallBackRsp)."},
}

// Fields of a getappinfo row that are not measurements.
const (
	fieldDate    = "Date"
	fieldAppName = "AppName"
	fieldAppID   = "AppId"
	fieldCompany = "Company"
)

// operationsDateLayout is the layout of getappinfo's Date field (YYYYMMDD).
const operationsDateLayout = "20060102"

var (
	operationsFamilies = newOperationsFamilies()
	opsDay             = expo.NewFamily("tencent_im_operations_day_timestamp_seconds", "Start of the day (in the configured timezone) the tencent_im operations values are for (getappinfo Date).", "sdkappid")
	opsAppInfo         = expo.NewFamily("tencent_im_app_info", "The app's name and company as getappinfo reports them; value 1.", "sdkappid", "app_name", "company")
	opsUnknown         = expo.NewFamily("tencent_im_operations_field", "A numeric getappinfo field this exporter has no metric for yet, by field name.", "sdkappid", "field")
	nonMeasureFields   = map[string]bool{fieldDate: true, fieldAppName: true, fieldAppID: true, fieldCompany: true}
)

// newOperationsFamilies returns the family of each field of
// OperationsFields, by getappinfo field name.
func newOperationsFamilies() map[string]*expo.Family {
	m := make(map[string]*expo.Family, len(OperationsFields))
	for _, f := range OperationsFields {
		m[f.Field] = expo.NewFamily("tencent_im_"+f.Name, f.Help, "sdkappid")
	}
	return m
}

// OperationsDayMetrics returns what the tencent_operations source exports for
// one day: the fields of row (OperationsMetrics), the day's start, and
// tencent_im_app_info with the app name and company of the first rows that
// carry them. bad is as for OperationsMetrics.
func OperationsDayMetrics(rows []tencentim.AppInfoRow, row tencentim.AppInfoRow, day time.Time, sdkappid string, lim *LabelLimit) (metrics []expo.Sample, bad []string) {
	metrics, bad = operationsMetrics(row, sdkappid, lim)
	metrics = append(metrics, opsDay.Gauge(float64(day.Unix()), sdkappid))
	if name, company := firstNonEmpty(rows, fieldAppName), firstNonEmpty(rows, fieldCompany); name != "" || company != "" {
		metrics = append(metrics, opsAppInfo.Gauge(1, sdkappid, name, company))
	}
	return metrics, bad
}

// LatestOperationsDay returns the row of the latest complete day and the
// start of that day in loc; false when there is none. A day is complete once
// it has ended: the newest row whose Date is before now's date in loc (the
// vendor's day, Asia/Shanghai, by default). getappinfo gives "operations data
// for the last 30 days" (Tencent Chat REST API "Pulling Operations Data")
// without saying whether the current day is among them; a row for today (or
// a later day) covers a day still running, so it is never the one exported.
// Rows without a valid Date are skipped.
func LatestOperationsDay(rows []tencentim.AppInfoRow, now time.Time, loc *time.Location) (tencentim.AppInfoRow, time.Time, bool) {
	today := StartOfDay(now, loc)
	var best tencentim.AppInfoRow
	var bestDay time.Time
	for _, r := range rows {
		d, ok := OperationsDay(r, loc)
		if !ok || !d.Before(today) {
			continue
		}
		if best == nil || d.After(bestDay) {
			best, bestDay = r, d
		}
	}
	return best, bestDay, best != nil
}

// OperationsDay returns the start in loc of the day a getappinfo row is for
// (its Date); false when Date is missing or not YYYYMMDD.
func OperationsDay(row tencentim.AppInfoRow, loc *time.Location) (time.Time, bool) {
	d, err := time.ParseInLocation(operationsDateLayout, row[fieldDate], loc)
	return d, err == nil
}

// operationsMetrics turns one getappinfo row into metrics without timestamps:
// a known field under its own name, another numeric field as
// tencent_im_operations_field. It returns the names of the fields whose value
// did not parse as a number; they give no series (never a fake 0). lim
// bounds the unknown fields: one it refuses is dropped (a sum of different
// fields means nothing).
func operationsMetrics(row tencentim.AppInfoRow, sdkappid string, lim *LabelLimit) (metrics []expo.Sample, bad []string) {
	for _, field := range slices.Sorted(maps.Keys(row)) {
		if nonMeasureFields[field] {
			continue
		}
		v, err := parseOperationsValue(row[field])
		desc, known := operationsFamilies[field]
		switch {
		case err != nil && known:
			bad = append(bad, field)
		case err != nil:
			// An unknown field that is not a number (a new text field) is not
			// a measurement: skip it silently.
		case known:
			metrics = append(metrics, desc.Gauge(v, sdkappid))
		case lim.admit(LimitField, field, false):
			metrics = append(metrics, opsUnknown.Gauge(v, sdkappid, field))
		}
	}
	return metrics, bad
}

// parseOperationsValue parses a getappinfo value: the vendor sends every
// value as a string (the samples of "Pulling Operations Data"), a count, read
// by the rule of package count (digits, 0 to 2^53; a negative, fractional or
// exponent value such as -62, -0 or 1e23 is refused).
func parseOperationsValue(s string) (float64, error) {
	n, ok := count.Text(s)
	if !ok {
		return 0, fmt.Errorf("not a count: %q", s)
	}
	return float64(n), nil
}

func firstNonEmpty(rows []tencentim.AppInfoRow, field string) string {
	i := slices.IndexFunc(rows, func(r tencentim.AppInfoRow) bool { return r[field] != "" })
	if i < 0 {
		return ""
	}
	return rows[i][field]
}
