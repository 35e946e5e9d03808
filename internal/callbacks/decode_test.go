package callbacks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
)

// reference decodes body with encoding/json, the way the decoder reads it
// (exact keys), for comparison.
func reference(body []byte, cmd Command) ([]event, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	list, ok := doc["Events"].([]any)
	if !ok || len(list) == 0 || len(list) > MaxEvents {
		return nil, fmt.Errorf("bad Events")
	}
	out := make([]event, 0, len(list))
	for i, item := range list {
		obj, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("Events[%d] not an object", i)
		}
		var e event
		ints := map[string]*int64{"EventType": &e.eventType, "TaskTime": &e.taskTime, "PushPlatform": &e.platform, "PushStage": &e.stage, "ErrCode": &e.errCode}
		bits := map[string]uint8{"EventType": fieldEventType, "TaskTime": fieldTaskTime, "PushPlatform": fieldPlatform, "PushStage": fieldStage, "ErrCode": fieldErrCode}
		for k, dst := range ints {
			v, ok := obj[k]
			if !ok {
				continue
			}
			n, ok := v.(json.Number)
			if !ok {
				return nil, fmt.Errorf("%s not a number", k)
			}
			x, err := strconv.ParseInt(string(n), 10, 64)
			if err != nil {
				return nil, err
			}
			*dst = x
			e.has |= bits[k]
		}
		if v, ok := obj["TaskId"]; ok {
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("TaskId not a string")
			}
			e.taskID = []byte(s)
			e.has |= fieldTaskID
		}
		if v, ok := obj["CallbackCommand"]; ok {
			if v != commandNames[cmd] {
				return nil, fmt.Errorf("wrong CallbackCommand")
			}
			e.has |= fieldCommand
		}
		if requiredFields[cmd]&^e.has != 0 {
			return nil, fmt.Errorf("missing field")
		}
		out = append(out, e)
	}
	return out, nil
}

// checkAgainstReference is the property the fuzz target and the table
// share: the decoder never accepts what encoding/json refuses, and what it
// accepts it reads as encoding/json does.
func checkAgainstReference(t *testing.T, body []byte, cmd Command) {
	t.Helper()
	var b batch
	err := decode(body, cmd, &b)
	if err != nil {
		return // stricter is allowed: a field given twice, deep nesting…
	}
	if !json.Valid(body) {
		t.Fatalf("decode accepted invalid JSON %q", body)
	}
	want, rerr := reference(body, cmd)
	if rerr != nil {
		t.Fatalf("decode accepted %q, which encoding/json reads as bad: %v", body, rerr)
	}
	if len(want) != len(b.events) {
		t.Fatalf("%q: %d events, encoding/json %d", body, len(b.events), len(want))
	}
	for i := range want {
		g, w := b.events[i], want[i]
		if !bytes.Equal(g.taskID, w.taskID) || g.eventType != w.eventType || g.taskTime != w.taskTime || g.platform != w.platform || g.stage != w.stage || g.errCode != w.errCode || g.has != w.has {
			t.Fatalf("%q: event %d = %+v, encoding/json %+v", body, i, g, w)
		}
	}
}

var decodeSeeds = []string{
	`{"Events":[{"EventType":1,"TaskId":"a","TaskTime":1,"PushPlatform":2,"PushStage":1,"ErrCode":0}]}`,
	` {"X":{"y":[1,2.5e3,-0.1,true,false,null,"\u00e9\n"]},"Events":[{"CallbackCommand":"Push.AllMemberPush","EventType":2,"TaskId":"t\u005f1","TaskTime":1557481127,"PushPlatform":8,"PushStage":3,"ErrCode":-1,"To_Account":"u"}]} `,
	`{"Events":[{"EventType":1,"TaskId":"a","TaskTime":1,"PushPlatform":2,"PushStage":1,"ErrCode":9223372036854775807}]}`,
	`{"Events":[{"EventType":1,"TaskId":"a","TaskTime":1,"PushPlatform":2,"PushStage":1,"ErrCode":-9223372036854775808}]}`,
	`{"Events":[{"EventType":1,"TaskId":"a","TaskTime":1,"PushPlatform":2,"PushStage":1,"ErrCode":9223372036854775808}]}`,
	`{"Even\u0074s":[{"EventType":1,"TaskId":"a","TaskTime":1,"PushPlatform":2,"PushStage":1,"ErrCode":0}]}`,
	`{"Events":[{"EventType":01,"TaskId":"a","TaskTime":1,"PushPlatform":2,"PushStage":1,"ErrCode":0}]}`,
	`{"Events":[{"EventType":1,"TaskId":"a\x01","TaskTime":1,"PushPlatform":2,"PushStage":1,"ErrCode":0}]}`,
	`{"Events":[]}`,
	`{"Events":[{}]}`,
	`{"Events":[{"EventType":1,"TaskId":"a","TaskTime":1,"PushPlatform":2,"PushStage":1,"ErrCode":0},]}`,
	`{"Events":[{"EventType":1,"TaskId":"a","TaskTime":1,"PushPlatform":2,"PushStage":1,"ErrCode":0}]`,
	`{"Events":[{"EventType":1,"TaskId":"a","TaskTime":1,"PushPlatform":2,"PushStage":1,"ErrCode":1e2}]}`,
	`{"Events":[{"EventType":1,"TaskId":"a","TaskTime":1,"PushPlatform":2,"PushStage":1,"ErrCode":-}]}`,
	`{"Events":[{"EventType":1,"TaskId":"\ud83d\ude00","TaskTime":1,"PushPlatform":2,"PushStage":1,"ErrCode":0}]}`,
}

func TestDecodeAgainstEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range decodeSeeds {
		checkAgainstReference(t, []byte(s), AllMemberPush)
		checkAgainstReference(t, []byte(s), OfflinePush)
	}
	for _, body := range [][]byte{benchBody(AllMemberPush, 100, 3), benchBody(OfflinePush, 100, 1)} {
		var b batch
		if err := decode(body, AllMemberPush, &b); err != nil && bytes.Contains(body, []byte("AllMemberPush")) {
			t.Fatal(err)
		}
		checkAgainstReference(t, body, AllMemberPush)
		checkAgainstReference(t, body, OfflinePush)
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ body, want string }{
		{`{"Events":[{"EventType":1,"TaskTime":1,"PushPlatform":2,"PushStage":1,"ErrCode":0}]}`, "Events[0]): TaskId missing"},
		{`{"Events":[{"EventType":1,"TaskId":"a","TaskTime":1,"PushPlatform":2,"PushStage":1,"ErrCode":"0"}]}`, "Events[0]): ErrCode: want an integer"},
		{`{"Events":[{"EventType":1,"TaskId":"a","TaskId":"b","TaskTime":1,"PushPlatform":2,"PushStage":1,"ErrCode":0}]}`, "Events[0]): TaskId given twice"},
		{`{"Events":{}}`, "the Events value is not an array"},
		{`{"Events":[1]}`, "Events[0]): want an object"},
		{`{"Events":[{"EventType":1,"TaskId":"a","TaskTime":1,"PushPlatform":2,"PushStage":1,"ErrCode":0}]} x`, "data after the object"},
	} {
		var b batch
		err := decode([]byte(tc.body), AllMemberPush, &b)
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
			t.Errorf("decode(%s) = %v, want an error containing %q", tc.body, err, tc.want)
		}
	}
}

// FuzzDecode checks that no body panics the decoder, that it never accepts
// what encoding/json refuses and reads what it accepts as encoding/json
// does.
func FuzzDecode(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s), false)
	}
	f.Add(benchBody(AllMemberPush, 3, 2), false)
	f.Add(benchBody(OfflinePush, 3, 1), true)
	f.Fuzz(func(t *testing.T, body []byte, offline bool) {
		cmd := AllMemberPush
		if offline {
			cmd = OfflinePush
		}
		checkAgainstReference(t, body, cmd)
	})
}
