package callbacks

import (
	"fmt"
	"strings"
)

// benchBody returns a callback body of n events of cmd, shaped like
// Tencent's samples, spread over platforms and codes; Push.AllMemberPush
// events cycle over tasks TaskIds.
func benchBody(cmd Command, n, tasks int) []byte {
	var b strings.Builder
	b.WriteString(`{"Events":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		platform, code := i%9, 0
		if i%7 == 0 {
			code = 410
		}
		switch cmd {
		case AllMemberPush:
			fmt.Fprintf(&b, `{"CallbackCommand":"Push.AllMemberPush","EventType":%d,"TaskId":"1400000001_144115212910570789_4155518400_%08d","TaskTime":1557481127,"EventTime":1557481128,"To_Account":"user%06d","PushPlatform":%d,"PushStage":1,"ErrCode":%d,"ErrInfo":"OK"}`,
				1+i%2, i%tasks, i, platform, code)
		default:
			fmt.Fprintf(&b, `{"CallbackCommand":"Push.OfflinePush","EventType":%d,"EventTime":1557481127,"From_Account":"user%06d","To_Account":"user%06d","PushPlatform":%d,"PushStage":1,"MsgKey":"48374_2837546_1557481126","MsgSeq":48374,"MsgRandom":2837546,"MsgTime":1557481126,"PushID":"67120c46_6a4086c0_9bf5fb50_200002d1089b322_2000005d8d46421","ErrCode":%d,"ErrInfo":"OK"}`,
				1+i%2, i+1, i, platform, code)
		}
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}
