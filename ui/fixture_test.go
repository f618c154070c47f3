package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/actions/spec"
	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/actionsui"
)

func svc(ns, name string, st estate.HealthStatus, reason string, ready, desired int32) estate.Service {
	return estate.Service{Namespace: ns, Name: name, Kind: "Deployment", Desired: desired, Ready: ready, UpToDate: desired,
		Restarts: 0, Created: testNow.Add(-49 * time.Hour), Health: estate.Health{Status: st, Reason: reason}}
}

// seedEstate is a snapshot shaped like the seed's fintech estate on local-1.
func seedEstate(gen uint64) estate.Snapshot {
	crash := svc("fintech-prod", "notification-service", estate.StatusDegraded, "0/1 ready; notification-service-7d9f CrashLoopBackOff (12 restarts)", 0, 1)
	crash.Restarts = 12
	crash.Pods = []estate.PodInfo{{Name: "notification-service-7d9f", Node: "local-1-node-1", Phase: "Running", Status: "CrashLoopBackOff",
		Restarts: 12, LastTermination: "Error", Created: testNow.Add(-3 * time.Hour)}}
	crash.PodCount = 1
	sts := svc("fintech-monitoring", "prometheus", estate.StatusOK, "", 1, 1)
	sts.Kind = "StatefulSet"
	gw := svc("fintech-prod", "api-gateway", estate.StatusOK, "", 3, 3)
	gw.HPA = estate.HPAInfo{Namespace: "fintech-prod", Name: "api-gateway-hpa", TargetKind: "Deployment", TargetName: "api-gateway",
		Min: 3, Max: 10, Current: 3, Desired: 3, Saturation: 0.3,
		Metrics:    []estate.HPAMetric{{Type: "Resource", Name: "cpu", Target: "70%", Current: "64%", Ratio: 0.91}},
		Conditions: []estate.Condition{{Type: "ScalingActive", Status: "True", Reason: "ValidMetricFound", Message: "the HPA was able to compute the replica count"}}}
	gw.Usage = estate.Usage{Available: true, CPU: 480, CPURequest: 750, CPULimit: 1500, Memory: 900 << 20, MemoryRequest: 3 << 30, MemoryLimit: 6 << 30}
	pay := svc("fintech-prod", "payment-service", estate.StatusOK, "", 2, 2)
	pay.Images = []string{"registry.fintech.internal/payment-service:v1.2.3"}
	pay.Usage = estate.Usage{Available: true, CPU: 400, CPURequest: 2000, CPULimit: 4000, Memory: 1200 << 20, MemoryRequest: 4 << 30, MemoryLimit: 8 << 30}
	pay.Argo = estate.ArgoAppRef{Namespace: "argocd", Name: "fintech-app", Sync: "Synced", Health: "Healthy"}
	for i, n := range []string{"payment-service-5f7c-abcde", "payment-service-5f7c-fghij"} {
		pay.Pods = append(pay.Pods, estate.PodInfo{Name: n, Node: "local-1-node-3", Phase: "Running", Ready: true, Status: "Running",
			Created: testNow.Add(-time.Duration(i+1) * time.Hour), Usage: estate.Usage{Available: true, CPU: 200, Memory: 600 << 20},
			Containers: []estate.ContainerInfo{{Name: "payment-service", Ready: true}, {Name: "istio-proxy", Ready: true}}})
	}
	pay.PodCount, pay.UsagePods = 2, 2
	pay.ErrorRateKnown, pay.ErrorRate, pay.RequestRate = true, 0.004, 12
	gw.ErrorRateKnown, gw.RequestRate = true, 120
	pay.Revisions = []estate.Revision{
		{Number: 3, Name: "payment-service-5f7c", Images: []string{"payment-service:v1.2.3"}, ChangeCause: "deploy v1.2.3", Created: testNow.Add(-2 * time.Hour), Current: true, Replicas: 2, Ready: 2},
		{Number: 2, Name: "payment-service-6b8d", Images: []string{"payment-service:v1.2.2"}, ChangeCause: "deploy v1.2.2", Created: testNow.Add(-26 * time.Hour)},
	}
	pay.VPA = estate.VPAInfo{Namespace: "fintech-prod", Name: "payment-service-vpa", TargetKind: "Deployment", TargetName: "payment-service", UpdateMode: "Off",
		Containers: []estate.VPAContainer{{Name: "payment-service", Target: estate.Resources{CPU: 203, Memory: 600 << 20},
			Requests: estate.Resources{CPU: 1000, Memory: 2 << 30}, CPUDrift: 3.93, MemoryDrift: 2.41, OutOfBounds: true}}, MaxDrift: 3.93}
	user := svc("fintech-prod", "user-service", estate.StatusOK, "", 2, 2)
	user.Alerts = []estate.Alert{{Name: "HighErrorRate", State: "firing", Severity: "critical", Summary: "High error rate detected",
		Description: "Error rate is above 10% for user-service", Since: testNow.Add(-5 * time.Minute), Service: "fintech-prod/user-service/Deployment"}}
	svcs := []estate.Service{
		crash,
		svc("fintech-staging", "user-service", estate.StatusProgressing, "0/1 ready; ProgressDeadlineExceeded", 0, 1),
		sts, gw, pay, user,
	}
	return estate.Snapshot{
		Context: "local-1", Generation: gen, Seq: 1, Taken: testNow, Synced: true, Services: svcs,
		HPAs: []estate.HPAInfo{gw.HPA}, VPAs: []estate.VPAInfo{pay.VPA},
		Alerts: estate.AlertsView{
			Prometheus:   estate.AlertSource{URL: "http://127.0.0.1:19090", Configured: true, Available: true, LastSuccess: testNow.Add(-3 * time.Second)},
			Alertmanager: estate.AlertSource{URL: "http://127.0.0.1:19093", Configured: true, Available: false, Err: "connection refused"},
			Alerts:       user.Alerts, Firing: 1,
		},
		ArgoApps: []estate.ArgoApp{{Namespace: "argocd", Name: "fintech-app", Project: "fintech-project", RepoURL: "https://github.com/fintech/k8s-manifests",
			Path: "prod", TargetRevision: "HEAD", DestServer: "https://kubernetes.default.svc", DestNamespace: "fintech-prod", AutoSync: true, Prune: true, SelfHeal: true,
			Sync: "Synced", Revision: "50ba6163c0ffee", Health: "Healthy", Resources: 12,
			History: []estate.ArgoHistory{{ID: 2, Revision: "50ba6163c0ffee", DeployedAt: testNow.Add(-24 * time.Hour)}},
			Windows: []estate.SyncWindow{{Kind: "deny", Schedule: "0 0 24 12 *", Duration: "72h"}}}},
		ExternalSecrets: []estate.ExternalSecretInfo{
			{Kind: "ExternalSecret", Namespace: "fintech-prod", Name: "payment-service-secrets", Store: "vault-backend", StoreKind: "SecretStore", Target: "payment-secrets", RefreshInterval: "5m", LastRefresh: testNow.Add(-2 * time.Minute), Ready: true, Reason: "SecretSynced"},
			{Kind: "ExternalSecret", Namespace: "fintech-prod", Name: "notification-provider-secrets", Store: "vault-backend", StoreKind: "SecretStore", Target: "notification-provider", RefreshInterval: "1h", Ready: false, Reason: "SecretSyncedError", Message: "remote key does not exist"},
		},
		SealedSecrets: []estate.SealedSecretInfo{{Namespace: "fintech-prod", Name: "payment-secrets", Keys: []string{"database-password", "stripe-secret-key"}, Synced: true}},
		Installed:     map[string]bool{"argoproj.io": true, "autoscaling.k8s.io": true, "external-secrets.io": true, "bitnami.com": true},
		Events: []estate.KubeEvent{{Namespace: "fintech-prod", Kind: "Pod", Name: "notification-service-7d9f", Type: "Warning", Reason: "BackOff",
			Message: "Back-off restarting failed container", Count: 40, Last: testNow.Add(-30 * time.Second)}},
		Problems: []string{`namespace "fintech-dr" does not exist`},
		Conn:     estate.ConnState{Connected: true, LastContact: testNow.Add(-2 * time.Second)},
	}
}

// estate2 is local-2: payment-service down on image pulls, no Argo CD.
func estate2(gen uint64) estate.Snapshot {
	s := seedEstate(gen)
	s.Context = "local-2"
	s.Services[4].Health = estate.Health{Status: estate.StatusDown, Reason: "0/2 ready; payment-service-7c9d ImagePullBackOff"}
	s.ArgoApps = nil
	s.Installed = map[string]bool{"argoproj.io": false}
	return s
}

// fakeBackend is a Backend with two contexts and canned answers.
type fakeBackend struct {
	switches []string
	fail     bool
	// failFor fails the switches to some contexts only.
	failFor map[string]error
	// feed, when set, completes the Feed of a switch that landed.
	feed     func(f *Feed)
	gen      uint64 // the last generation handed out (from 2: the first feed's)
	manifest func(estate.ObjectRef) (string, error)
	events   func(estate.ObjectRef) (estate.ObjectEvents, error)
	// extra are contexts listed after local-1 and local-2.
	extra []estate.ContextInfo
}

func (f *fakeBackend) Contexts() []estate.ContextInfo {
	return append([]estate.ContextInfo{
		{Name: "local-1", Cluster: "local-1", User: "admin", Server: "https://127.0.0.1:6443"},
		{Name: "local-2", Cluster: "local-2", User: "admin", Server: "https://127.0.0.1:6444"},
	}, f.extra...)
}

func (f *fakeBackend) Switch(_ context.Context, name string) (Feed, error) {
	f.switches = append(f.switches, name)
	if f.fail {
		return Feed{}, errors.New("connection refused")
	}
	if err := f.failFor[name]; err != nil {
		return Feed{}, err
	}
	if f.gen < 2 {
		f.gen = 2
	}
	f.gen++
	feed := Feed{OnScreen: OnScreen{Context: name, Server: "https://127.0.0.1:6444", User: "admin", Generation: f.gen}}
	if f.feed != nil {
		f.feed(&feed)
	}
	return feed, nil
}

func (f *fakeBackend) Manifest(_ context.Context, ref estate.ObjectRef) (string, error) {
	if f.manifest == nil {
		return "", errors.New("no manifest in this fake")
	}
	return f.manifest(ref)
}

func (f *fakeBackend) Events(_ context.Context, ref estate.ObjectRef) (estate.ObjectEvents, error) {
	if f.events == nil {
		return estate.ObjectEvents{Ref: ref}, nil
	}
	return f.events(ref)
}

func (f *fakeBackend) Fleet(context.Context) (estate.FleetSummary, error) {
	return estate.FleetSummary{Generation: 2, Taken: testNow, Entries: []estate.FleetEntry{
		{Context: "local-1", Source: estate.FleetFromSession, Reachable: true, Services: 6, OK: 4, Degraded: 1, Progressing: 1, Firing: 1, Checked: testNow, Worst: []string{"fintech-prod/notification-service Degraded"}},
		{Context: "local-2", Source: estate.FleetFromPrometheus, Reachable: true, Services: 6, OK: 5, Down: 1, Firing: 1, Checked: testNow, Worst: []string{"fintech-prod/payment-service Down"}},
	}}, nil
}

func catalogue() []checks.Check {
	return []checks.Check{
		{ID: "pod-security-enforced", Title: "Pod Security Standards enforced", Group: checks.Security, Item: "Pod Security Standards enforced", Severity: checks.High, PCI: []string{"2.2.1"}},
		{ID: "probes-configured", Title: "Liveness and readiness probes", Group: checks.Operations, Item: "Rolling update strategy configured", Severity: checks.Medium},
		{ID: "audit-logging", Title: "Audit logging", Group: checks.Compliance, Item: "Audit logging enabled", Severity: checks.High},
	}
}

func findings() []checks.Finding {
	return []checks.Finding{
		{Check: "pod-security-enforced", Status: checks.Fail, Resource: checks.Resource{Kind: "Namespace", Name: "fintech-prod"},
			Evidence: "pod-security.kubernetes.io/enforce=baseline", Remediation: "label the namespace enforce=restricted"},
		{Check: "probes-configured", Status: checks.Fail, Resource: checks.Resource{Kind: "Deployment", Namespace: "fintech-prod", Name: "user-service"},
			Evidence: "container user-service has no readinessProbe", Remediation: "add readiness and liveness probes"},
		{Check: "probes-configured", Status: checks.Pass, Resource: checks.Resource{Kind: "Deployment", Namespace: "fintech-prod", Name: "payment-service"},
			Evidence: "all containers have probes"},
		{Check: "audit-logging", Status: checks.Unknown, Resource: checks.Resource{Kind: "Cluster"}, Evidence: "the apiserver's audit policy is not visible"},
	}
}

// fakeActions is an actions provider: items whose ID is in disabled are
// refused with that reason; Start records "id params object reason".
type fakeActions struct {
	ran      []string
	disabled map[string]string
}

func newFakeActions() *fakeActions {
	return &fakeActions{disabled: map[string]string{"rollback": "forbidden: you cannot patch deployments in fintech-prod"}}
}

func (f *fakeActions) States(key string, items []actionsui.Item) tea.Cmd {
	return func() tea.Msg {
		msg := actionsui.StatesMsg{Context: "local-1", Generation: 2, Key: key}
		for _, it := range items {
			d := it.Disabled
			if d == "" {
				d = f.disabled[it.ID]
			}
			msg.States = append(msg.States, actionsui.State{ID: it.ID, Title: it.Title, Dangerous: it.Dangerous, Disabled: d, Object: it.Object})
		}
		return msg
	}
}

func (f *fakeActions) Start(p spec.Params, o spec.Object, title, reason string) tea.Cmd {
	f.ran = append(f.ran, strings.Join(strings.Fields(p.About().ID+" "+p.String()+" "+o.String()+" "+reason), " "))
	return nil
}

var _ = fmt.Sprint

func press(s string) tea.KeyPressMsg {
	switch s {
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

// typeText presses each rune of s.
func typeText(m *Model, s string) {
	for _, r := range s {
		run(m, press(string(r)))
	}
}
