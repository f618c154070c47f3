package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/events"
	"github.com/vigil-k8s/vigil/ui/manifest"
	"github.com/vigil-k8s/vigil/ui/objects"
	"github.com/vigil-k8s/vigil/ui/services"
)

// selectService moves the Services screen's cursor to name.
func selectService(t *testing.T, m *Model, name string) estate.Service {
	t.Helper()
	for range 10 {
		if s, ok := m.Services().Selected(); ok && s.Name == name {
			return s
		}
		m.Update(press("j"))
	}
	t.Fatalf("%s not on the Services screen", name)
	return estate.Service{}
}

// TestYAMLKeys: y on the Services screen shows the selected workload's YAML through the
// Backend; in a detail view y offers every object the page shows (the workload, its pods, HPA,
// VPA, PDB, Services, Argo CD Application) and opens the one chosen.
func TestYAMLKeys(t *testing.T) {
	var asked []estate.ObjectRef
	b := &fakeBackend{manifest: func(ref estate.ObjectRef) (string, error) {
		asked = append(asked, ref)
		return "apiVersion: v1\nkind: " + ref.Kind + "\nmetadata:\n  name: " + ref.Name + "\n", nil
	}}
	m := newModelWith(t, 120, 40, b, nil)
	m.Update(SnapshotMsg{Snapshot: seedEstate(2)})
	gw := selectService(t, m, "api-gateway")
	run(m, press("y"))
	mv, ok := m.Top().(*manifest.Model)
	if !ok {
		t.Fatalf("y opened %T, want the YAML view", m.Top())
	}
	want := estate.ObjectRef{Kind: "Deployment", Namespace: "fintech-prod", Name: "api-gateway"}
	if len(asked) != 1 || asked[0] != want {
		t.Fatalf("y asked for %v, want %v", asked, want)
	}
	if v := ansi.Strip(mv.View()); !strings.Contains(v, "name: api-gateway") || !strings.Contains(v, "YAML of Deployment fintech-prod/api-gateway") {
		t.Errorf("the YAML view:\n%s", v)
	}
	run(m, press("esc"))

	run(m, press("enter"))
	run(m, press("y"))
	ch, ok := m.Top().(*objects.Chooser)
	if !ok {
		t.Fatalf("y in the detail opened %T, want the chooser", m.Top())
	}
	var offered []string
	for _, r := range ch.Refs() {
		offered = append(offered, r.Kind+"/"+r.Name)
	}
	wantOffered := []string{"Deployment/api-gateway"}
	for _, p := range gw.Pods {
		wantOffered = append(wantOffered, "Pod/"+p.Name)
	}
	wantOffered = append(wantOffered, "HorizontalPodAutoscaler/"+gw.HPA.Name)
	if strings.Join(offered, " ") != strings.Join(wantOffered, " ") {
		t.Errorf("offered %v, want %v", offered, wantOffered)
	}
	second := ch.Refs()[1]
	run(m, press("j"))
	run(m, press("enter"))
	if _, ok := m.Top().(*manifest.Model); !ok {
		t.Fatalf("enter in the chooser opened %T", m.Top())
	}
	if got := asked[len(asked)-1]; got != second || got.Name == "" {
		t.Errorf("chose %v, want the second offered, %v", got, second)
	}
	run(m, press("esc"))
	if _, ok := m.Top().(*services.Detail); !ok {
		t.Errorf("esc from the YAML went to %T, want the detail", m.Top())
	}
}

// TestEventsOfEveryType: the detail's RECENT EVENTS lists the Normal events of a rollout the
// Backend returns (issue 20: it said "no recent events"), newest first with counts and ages; e
// opens them with the conditions, f keeps warnings, then normal ones.
func TestEventsOfEveryType(t *testing.T) {
	evs := []estate.KubeEvent{
		{Namespace: "fintech-prod", Kind: "Deployment", Name: "api-gateway", Type: "Normal", Reason: "ScalingReplicaSet", Message: "Scaled down replica set api-gateway-5d9 from 1 to 0", Count: 1, Last: testNow.Add(-30 * time.Second)},
		{Namespace: "fintech-prod", Kind: "Pod", Name: "api-gateway-7c4-x2", Type: "Warning", Reason: "Unhealthy", Message: "Readiness probe failed: HTTP probe failed with statuscode: 503", Count: 4, Last: testNow.Add(-2 * time.Minute)},
		{Namespace: "fintech-prod", Kind: "ReplicaSet", Name: "api-gateway-7c4", Type: "Normal", Reason: "SuccessfulCreate", Message: "Created pod: api-gateway-7c4-x2", Count: 1, Last: testNow.Add(-3 * time.Minute)},
	}
	b := &fakeBackend{events: func(ref estate.ObjectRef) (estate.ObjectEvents, error) {
		return estate.ObjectEvents{Ref: ref, Events: evs, Conditions: []estate.ObjectCondition{
			{Kind: "Deployment", Name: "api-gateway", Condition: estate.Condition{Type: "Progressing", Status: "True", Reason: "NewReplicaSetAvailable"}},
			{Kind: "Pod", Name: "api-gateway-7c4-x2", Condition: estate.Condition{Type: "Ready", Status: "False", Reason: "ContainersNotReady"}},
		}}, nil
	}}
	m := newModelWith(t, 160, 60, b, nil)
	m.Update(SnapshotMsg{Snapshot: seedEstate(2)})
	selectService(t, m, "api-gateway")
	run(m, press("enter"))
	d, ok := m.Top().(*services.Detail)
	if !ok {
		t.Fatalf("enter opened %T", m.Top())
	}
	for range 3 {
		m.Update(press("pgdown"))
	}
	page := ansi.Strip(strings.Join(detailLines(m, d), "\n"))
	i := strings.Index(page, "RECENT EVENTS (3 of every type")
	if i < 0 {
		t.Fatalf("RECENT EVENTS does not list every type:\n%s", page)
	}
	sec := page[i:]
	a, bb, c := strings.Index(sec, "ScalingReplicaSet"), strings.Index(sec, "Unhealthy"), strings.Index(sec, "SuccessfulCreate")
	if a < 0 || bb < 0 || c < 0 || !(a < bb && bb < c) {
		t.Errorf("the events are not all there newest first:\n%s", sec)
	}
	if !strings.Contains(sec, "30s Normal") || !strings.Contains(sec, "×4") || !strings.Contains(sec, "Ready") || !strings.Contains(sec, "ContainersNotReady") {
		t.Errorf("ages, counts or the pod's not-Ready condition are missing:\n%s", sec)
	}

	run(m, press("e"))
	ev, ok := m.Top().(*events.Model)
	if !ok {
		t.Fatalf("e opened %T", m.Top())
	}
	kinds := func() (out []string) {
		for _, e := range ev.Shown() {
			out = append(out, e.Type+" "+e.Reason)
		}
		return out
	}
	if got := strings.Join(kinds(), ","); got != "Normal ScalingReplicaSet,Warning Unhealthy,Normal SuccessfulCreate" {
		t.Errorf("e shows %s", got)
	}
	if v := ansi.Strip(ev.View()); !strings.Contains(v, "CONDITIONS (2)") || !strings.Contains(v, "NewReplicaSetAvailable") {
		t.Errorf("e does not show the conditions:\n%s", v)
	}
	run(m, press("f"))
	if got := strings.Join(kinds(), ","); got != "Warning Unhealthy" {
		t.Errorf("f (warnings) shows %s", got)
	}
	run(m, press("f"))
	if got := strings.Join(kinds(), ","); got != "Normal ScalingReplicaSet,Normal SuccessfulCreate" {
		t.Errorf("f (normal) shows %s", got)
	}
}

// detailLines is every line of the detail's page, scrolling through it.
func detailLines(m *Model, d *services.Detail) []string {
	var out []string
	seen := map[string]bool{}
	for range 20 {
		for _, l := range strings.Split(d.View(), "\n") {
			if !seen[l] {
				seen[l] = true
				out = append(out, l)
			}
		}
		m.Update(press("pgdown"))
	}
	return out
}

// TestYAMLOnTheAutoscalingScreen: y on the Autoscaling screen offers every HPA and VPA of the
// snapshot and shows the chosen one's YAML through the Backend.
func TestYAMLOnTheAutoscalingScreen(t *testing.T) {
	var asked []estate.ObjectRef
	b := &fakeBackend{manifest: func(ref estate.ObjectRef) (string, error) {
		asked = append(asked, ref)
		return "kind: " + ref.Kind + "\n", nil
	}}
	m := newModelWith(t, 120, 40, b, nil)
	snap := seedEstate(2)
	m.Update(SnapshotMsg{Snapshot: snap})
	run(m, press("tab"))
	if m.Screen() != "hpa" {
		t.Fatalf("tab went to %s", m.Screen())
	}
	run(m, press("y"))
	ch, ok := m.Top().(*objects.Chooser)
	if !ok {
		t.Fatalf("y opened %T", m.Top())
	}
	var want []string
	for _, h := range snap.HPAs {
		want = append(want, "HorizontalPodAutoscaler "+h.Namespace+"/"+h.Name)
	}
	for _, v := range snap.VPAs {
		want = append(want, "VerticalPodAutoscaler "+v.Namespace+"/"+v.Name)
	}
	var got []string
	for _, r := range ch.Refs() {
		got = append(got, r.String())
	}
	if strings.Join(got, ",") != strings.Join(want, ",") || len(want) < 2 {
		t.Fatalf("offered %v, want %v", got, want)
	}
	run(m, press("j"))
	run(m, press("enter"))
	if _, ok := m.Top().(*manifest.Model); !ok || len(asked) != 1 || asked[0].String() != want[1] {
		t.Fatalf("enter opened %T asking %v, want %s", m.Top(), asked, want[1])
	}
}

// TestYAMLOnTheGitOpsScreen: y on an application shows its YAML; on an ExternalSecret it offers
// the ExternalSecret and the Secret it writes, whose view is what the Backend returns.
func TestYAMLOnTheGitOpsScreen(t *testing.T) {
	var asked []estate.ObjectRef
	b := &fakeBackend{manifest: func(ref estate.ObjectRef) (string, error) {
		asked = append(asked, ref)
		return "kind: " + ref.Kind + "\n", nil
	}}
	m := newModelWith(t, 120, 40, b, nil)
	m.Update(SnapshotMsg{Snapshot: seedEstate(2)})
	run(m, screenMsgFor("gitops"))
	run(m, press("y"))
	if _, ok := m.Top().(*manifest.Model); !ok || len(asked) != 1 || asked[0].String() != "Application argocd/fintech-app" {
		t.Fatalf("y on the application opened %T asking %v", m.Top(), asked)
	}
	run(m, press("esc"))
	run(m, press("j"))
	run(m, press("y"))
	ch, ok := m.Top().(*objects.Chooser)
	if !ok {
		t.Fatalf("y on the ExternalSecret opened %T", m.Top())
	}
	var got []string
	for _, r := range ch.Refs() {
		got = append(got, r.String())
	}
	if want := "ExternalSecret fintech-prod/payment-service-secrets,Secret fintech-prod/payment-secrets"; strings.Join(got, ",") != want {
		t.Fatalf("offered %v, want %s", got, want)
	}
	run(m, press("j"))
	run(m, press("enter"))
	if _, ok := m.Top().(*manifest.Model); !ok || asked[len(asked)-1].String() != "Secret fintech-prod/payment-secrets" {
		t.Fatalf("enter opened %T asking %v", m.Top(), asked)
	}
}
