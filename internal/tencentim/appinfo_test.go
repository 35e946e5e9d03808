package tencentim

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/imstats/imstats_exporter/internal/apierr"
)

// seedAppID is the AppId of the sample row of "Pulling Operations Data".
const seedAppID = 1104620500

// seedAppInfoRow is the sample row of Tencent Chat's "Pulling Operations Data".
var seedAppInfoRow = AppInfoRow{
	"APNSMsgNum": "84", "ActiveUserNum": "2014", "AppId": "1104620500",
	"AppName":       "Real-Time Communication Scenario Developer edition",
	"C2CAPNSMsgNum": "84", "C2CDownMsgNum": "11040", "C2CSendMsgUserNum": "9", "C2CUpMsgNum": "52209",
	"CallBackReq": "73069", "CallBackRsp": "72902", "ChainDecrease": "16", "ChainIncrease": "18",
	"Company": "Linye", "Date": "20160607", "DownMsgNum": "11869",
	"GroupAPNSMsgNum": "0", "GroupAllGroupNum": "41913", "GroupDestroyGroupNum": "35019", "GroupDownMsgNum": "829",
	"GroupJoinGroupTimes": "121438", "GroupNewGroupNum": "35904", "GroupQuitGroupTimes": "108292",
	"GroupSendMsgGroupNum": "5189", "GroupSendMsgUserNum": "12", "GroupUpMsgNum": "8433",
	"LoginTimes": "13708", "LoginUserNum": "2094", "MaxOnlineNum": "62",
	"RegistUserNumOneDay": "1052", "RegistUserNumTotal": "53091", "SendMsgUserNum": "19", "UpMsgNum": "60642",
}

func TestGetAppInfo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		body string
		want []AppInfoRow
	}{
		{"vendor sample", readTestdata(t, "getappinfo.json"), []AppInfoRow{seedAppInfoRow}},
		{"vendor sample with RequestField, vendor order kept", readTestdata(t, "getappinfo_fields.json"), []AppInfoRow{
			{"ChainDecrease": "8", "ChainIncrease": "8", "Date": "20160605"},
			{"ChainDecrease": "17", "ChainIncrease": "17", "Date": "20160604"},
		}},
		{"numbers, null, objects, unknown fields, non-object rows", readTestdata(t, "getappinfo_mixed.json"), []AppInfoRow{
			{
				"Date": "20240301", "AppName": "demo app", "ActiveUserNum": "2014", "MaxOnlineNum": "62.5",
				"UpMsgNum": "60642", "RTCMinutes": "1200", "Enabled": "true", "Big": "1e3",
			},
			{},
		}},
		{"no Result", `{"ErrorCode":0,"ErrorInfo":"OK"}`, nil},
		{"null Result", `{"ErrorCode":0,"Result":null}`, nil},
		{"empty Result", `{"ErrorCode":0,"Result":[]}`, []AppInfoRow{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := newVendor(t, always(reply{body: tc.body}))
			c, _ := newTestClient(t, v.srv.URL, func(o *Options) { o.SDKAppID = seedAppID })
			got, err := c.GetAppInfo(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("rows\n got %#v\nwant %#v", got, tc.want)
			}
			reqs := v.requests()
			if len(reqs) != 1 || reqs[0].path != "/v4/openconfigsvr/getappinfo" || string(reqs[0].body) != "{}" {
				t.Errorf("requests %+v, want one POST of {} to /v4/openconfigsvr/getappinfo", reqs)
			}
		})
	}
}

func TestGetAppInfoRefusesAnotherApp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		body string
	}{
		{"the seed sample for another SDKAppID", readTestdata(t, "getappinfo.json")},
		{"one row of two", `{"ErrorCode":0,"Result":[{"AppId":"1400000000","Date":"20240302"},{"AppId":"1400000001","Date":"20240301"}]}`},
		{"a number", `{"ErrorCode":0,"Result":[{"AppId":1400000001,"Date":"20240302"}]}`},
		{"empty", `{"ErrorCode":0,"Result":[{"AppId":"","Date":"20240302"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := newVendor(t, always(reply{body: tc.body}))
			c, _ := newTestClient(t, v.srv.URL, nil) // SDKAppID 1400000000
			rows, err := c.GetAppInfo(context.Background())
			var e *apierr.Error
			if rows != nil || !errors.As(err, &e) || e.Class != apierr.WrongApp || e.Code != apierr.CodeWrongApp {
				t.Fatalf("rows %v err %v, want no rows and a wrong_app error", rows, err)
			}
		})
	}
	// The configured app's own rows, with or without AppId, pass.
	v := newVendor(t, always(reply{body: `{"ErrorCode":0,"Result":[{"AppId":"1400000000","Date":"20240302"},{"Date":"20240301"},{"AppId":1400000000}]}`}))
	c, _ := newTestClient(t, v.srv.URL, nil)
	if rows, err := c.GetAppInfo(context.Background()); err != nil || len(rows) != 3 {
		t.Errorf("rows %v err %v, want 3 rows", rows, err)
	}
}

func TestBaseURLWithPath(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ suffix, want string }{
		{"", "/v4/openconfigsvr/getappinfo"},
		{"/", "/v4/openconfigsvr/getappinfo"},
		{"/v4", "/v4/openconfigsvr/getappinfo"},
		{"/v4/", "/v4/openconfigsvr/getappinfo"},
		{"/im-proxy", "/im-proxy/v4/openconfigsvr/getappinfo"},
		{"/im-proxy/v4", "/im-proxy/v4/openconfigsvr/getappinfo"},
	} {
		v := newVendor(t, always(reply{body: `{"ErrorCode":0,"Result":[]}`}))
		c, _ := newTestClient(t, v.srv.URL+tc.suffix, nil)
		if _, err := c.GetAppInfo(context.Background()); err != nil {
			t.Fatal(err)
		}
		if reqs := v.requests(); len(reqs) != 1 || reqs[0].path != tc.want {
			t.Errorf("endpoint …%s: requests %+v, want %s", tc.suffix, reqs, tc.want)
		}
	}
}

func TestGetAppInfoError(t *testing.T) {
	t.Parallel()
	v := newVendor(t, always(vendorErr(130011)))
	c, _ := newTestClient(t, v.srv.URL, nil)
	rows, err := c.GetAppInfo(context.Background())
	if rows != nil || apierr.ClassOf(err) != apierr.Transient {
		t.Errorf("rows %v err %v, want no rows and a transient error", rows, err)
	}
}

func FuzzDecodeAppInfo(f *testing.F) {
	for _, name := range []string{"getappinfo.json", "getappinfo_fields.json", "getappinfo_mixed.json"} {
		f.Add([]byte(readTestdata(f, name)))
	}
	c := New(Options{SDKAppID: seedAppID, Identifier: testIdentifier, SecretKey: vecKey})
	f.Fuzz(func(t *testing.T, body []byte) {
		var b appInfoBody
		if e := c.decode(APIGetAppInfo, body, "", &b); e != nil {
			checkFuzzError(t, e)
			return
		}
		// Rows are plain text: encoded again they decode to themselves.
		again, err := json.Marshal(map[string]any{"ErrorCode": 0, "Result": b.rows})
		if err != nil {
			t.Fatal(err)
		}
		var b2 appInfoBody
		if e := c.decode(APIGetAppInfo, again, "", &b2); e != nil || !reflect.DeepEqual(b.rows, b2.rows) {
			t.Fatalf("round trip: %v\n got %#v\nwant %#v", e, b2.rows, b.rows)
		}
	})
}
