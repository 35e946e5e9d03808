package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// lossReasonsPrefix starts the loss_reasons annotation of a delivery alert
// about a Tencent channel that Tencent's push loss analysis reports losses
// for.
const lossReasonsPrefix = "Top loss reasons (Tencent push loss analysis): "

// testWhyAlerts checks, on the demo degrading degradedChannel, the alerts
// that say why pushes fail: the Tencent ImstatsPushChannelBelowPeers names
// the channel's top loss reasons from the loss analysis (the JPush one says
// JPush has none), and ImstatsPushEventsFailing names the channel from the
// events of the push callbacks. It reads Prometheus' alerts, whose
// annotations are those of the last evaluation (Alertmanager only hears of
// a change when Prometheus resends, once a minute).
func testWhyAlerts(t *testing.T, api promAPI, degraded string, deadline time.Time) {
	t.Run("loss reasons in the delivery alerts", func(t *testing.T) {
		var got []annotatedAlert
		var err error
		ok := poll(deadline, func() bool {
			got, err = api.annotatedAlerts("ImstatsPushChannelBelowPeers", degraded)
			want := map[string]bool{}
			for _, a := range got {
				if a.Labels["channel"] != degradedChannel {
					continue
				}
				r := a.Annotations["loss_reasons"]
				switch a.Labels["vendor"] {
				case "tencent_im":
					want["tencent_im"] = strings.HasPrefix(r, lossReasonsPrefix) && len(r) > len(lossReasonsPrefix)
				case "jpush":
					want["jpush"] = r == "jpush reports no loss reasons."
				}
			}
			return want["tencent_im"] && want["jpush"]
		})
		for _, a := range got {
			if a.Labels["vendor"] == "tencent_im" && a.Labels["channel"] == degradedChannel {
				t.Logf("%s %s %s: loss_reasons %q", a.Labels["app"], a.Labels["source"], a.Labels["window"], a.Annotations["loss_reasons"])
			}
		}
		if !ok {
			t.Errorf("ImstatsPushChannelBelowPeers{channel=%q} of %s: want loss_reasons %q… on the Tencent alert and %q on the JPush one; got %+v, last error %v",
				degradedChannel, degraded, lossReasonsPrefix, "jpush reports no loss reasons.", got, err)
		}
	})
	t.Run("push events failing", func(t *testing.T) {
		var got []annotatedAlert
		var err error
		ok := poll(deadline, func() bool {
			got, err = api.annotatedAlerts("ImstatsPushEventsFailing", degraded)
			for _, a := range got {
				if a.Labels["platform"] == degradedChannel && a.Labels["command"] == "all_member_push" && a.State == "firing" &&
					strings.Contains(a.Annotations["summary"], "channel "+degradedChannel) {
					return true
				}
			}
			return false
		})
		if !ok {
			t.Errorf("ImstatsPushEventsFailing{platform=%q, command=\"all_member_push\"} of %s not firing with a summary naming the channel; got %+v, last error %v",
				degradedChannel, degraded, got, err)
		}
	})
}

// annotatedAlert is an alert as Prometheus' /api/v1/alerts lists it, with
// its annotations.
type annotatedAlert struct {
	Labels      map[string]string
	Annotations map[string]string
	State       string
}

// annotatedAlerts returns the alerts named name that Prometheus holds for
// the target instance, pending and firing.
func (p promAPI) annotatedAlerts(name, instance string) ([]annotatedAlert, error) {
	var ans struct {
		Status string
		Error  string
		Data   struct{ Alerts []annotatedAlert }
	}
	if err := getJSON(string(p)+"/api/v1/alerts", &ans); err != nil {
		return nil, err
	}
	if ans.Status != "success" {
		return nil, fmt.Errorf("/api/v1/alerts: %w", errors.New(ans.Error))
	}
	var out []annotatedAlert
	for _, a := range ans.Data.Alerts {
		if a.Labels["alertname"] == name && a.Labels["instance"] == instance {
			out = append(out, a)
		}
	}
	return out, nil
}
