package estate

import (
	"cmp"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/vigil-k8s/vigil/gitops"
)

func str(o map[string]any, fields ...string) string {
	v, _, _ := unstructured.NestedString(o, fields...)
	return v
}

func boolean(o map[string]any, fields ...string) bool {
	v, _, _ := unstructured.NestedBool(o, fields...)
	return v
}

func list(o map[string]any, fields ...string) []any {
	v, _, _ := unstructured.NestedSlice(o, fields...)
	return v
}

func strs(o map[string]any, fields ...string) []string {
	v, _, _ := unstructured.NestedStringSlice(o, fields...)
	return v
}

func when(o map[string]any, fields ...string) time.Time {
	t, err := time.Parse(time.RFC3339, str(o, fields...))
	if err != nil {
		return time.Time{}
	}
	return t
}

func conditions(o map[string]any, fields ...string) []Condition {
	var out []Condition
	for _, c := range list(o, fields...) {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		since := when(m, "lastTransitionTime")
		out = append(out, Condition{Type: str(m, "type"), Status: str(m, "status"), Reason: str(m, "reason"), Message: str(m, "message"), Since: since})
	}
	return out
}

func condition(cs []Condition, typ string) (Condition, bool) {
	for _, c := range cs {
		if c.Type == typ {
			return c, true
		}
	}
	return Condition{}, false
}

// ArgoAppOf describes an Argo CD Application; windows are its project's.
func ArgoAppOf(u *unstructured.Unstructured, windows []SyncWindow, now time.Time) ArgoApp {
	o := u.Object
	a := ArgoApp{
		Namespace: u.GetNamespace(), Name: u.GetName(), Project: str(o, "spec", "project"),
		RepoURL: str(o, "spec", "source", "repoURL"), Path: str(o, "spec", "source", "path"),
		Chart: str(o, "spec", "source", "chart"), TargetRevision: str(o, "spec", "source", "targetRevision"),
		DestServer: str(o, "spec", "destination", "server"), DestNamespace: str(o, "spec", "destination", "namespace"),
		Sync: str(o, "status", "sync", "status"), Revision: str(o, "status", "sync", "revision"),
		Health: str(o, "status", "health", "status"), HealthMessage: str(o, "status", "health", "message"),
	}
	if srcs := list(o, "spec", "sources"); a.RepoURL == "" && len(srcs) > 0 {
		if m, ok := srcs[0].(map[string]any); ok {
			a.RepoURL, a.Path, a.Chart, a.TargetRevision = str(m, "repoURL"), str(m, "path"), str(m, "chart"), str(m, "targetRevision")
		}
	}
	if auto, ok, _ := unstructured.NestedMap(o, "spec", "syncPolicy", "automated"); ok {
		a.AutoSync = true
		a.Prune, a.SelfHeal = boolean(auto, "prune"), boolean(auto, "selfHeal")
	}
	if sus := gitops.SuspensionOf(u.GetAnnotations()); sus != nil {
		a.Suspension = &ArgoSuspension{By: sus.By, Reason: sus.Reason, Broken: sus.Broken, At: sus.At, Until: sus.Until}
	}
	if op, ok, _ := unstructured.NestedMap(o, "status", "operationState"); ok {
		a.Operation = ArgoOperation{
			Phase: str(op, "phase"), Message: str(op, "message"),
			Revision:  str(op, "operation", "sync", "revision"),
			StartedAt: when(op, "startedAt"), FinishedAt: when(op, "finishedAt"),
			InitiatedBy: str(op, "operation", "initiatedBy", "username"),
		}
		if boolean(op, "operation", "initiatedBy", "automated") {
			a.Operation.InitiatedBy = "automated"
		}
		if a.Operation.Revision == "" {
			a.Operation.Revision = str(op, "syncResult", "revision")
		}
	}
	if req, ok, _ := unstructured.NestedMap(o, "operation"); ok {
		// .operation is set until the controller has finished it: the
		// operation is pending. Before the controller takes it up there is
		// no operationState of it (the requester cleared the last one), or
		// only the last one's, finished.
		a.Operation.Pending = true
		if a.Operation.Phase == "" || a.Operation.Finished() {
			a.Operation = ArgoOperation{Phase: ArgoPhaseRequested, Pending: true,
				Revision: str(req, "sync", "revision"), InitiatedBy: str(req, "initiatedBy", "username")}
			if boolean(req, "initiatedBy", "automated") {
				a.Operation.InitiatedBy = "automated"
			}
		}
	}
	for _, h := range list(o, "status", "history") {
		m, ok := h.(map[string]any)
		if !ok {
			continue
		}
		id, _, _ := unstructured.NestedInt64(m, "id")
		a.History = append(a.History, ArgoHistory{ID: id, Revision: str(m, "revision"), DeployedAt: when(m, "deployedAt"), Source: str(m, "source", "repoURL")})
	}
	sort.Slice(a.History, func(i, j int) bool { return a.History[i].ID > a.History[j].ID })
	for _, c := range list(o, "status", "conditions") {
		if m, ok := c.(map[string]any); ok {
			a.Conditions = append(a.Conditions, Condition{Type: str(m, "type"), Message: str(m, "message"), Since: when(m, "lastTransitionTime")})
		}
	}
	for _, r := range list(o, "status", "resources") {
		m, ok := r.(map[string]any)
		if !ok {
			continue
		}
		a.Resources++
		if s := str(m, "status"); s != "" && s != "Synced" {
			a.OutOfSync++
		}
		if k := str(m, "kind"); k == "Deployment" || k == "StatefulSet" || k == "DaemonSet" {
			a.Workloads = append(a.Workloads, str(m, "namespace")+"/"+str(m, "name")+"/"+k)
		}
	}
	for _, w := range windows {
		if !windowMatches(w, a) {
			continue
		}
		w.Active = windowActive(w, now)
		a.Windows = append(a.Windows, w)
	}
	a.SyncBlocked, a.BlockedBy = syncBlocked(a.Windows)
	return a
}

// syncBlocked applies Argo CD's rule: an active deny window blocks; when
// allow windows exist, syncing needs one of them active.
func syncBlocked(ws []SyncWindow) (bool, string) {
	hasAllow, allowActive := false, false
	for _, w := range ws {
		switch w.Kind {
		case "deny":
			if w.Active {
				return true, fmt.Sprintf("deny %s for %s", w.Schedule, w.Duration)
			}
		case "allow":
			hasAllow = true
			allowActive = allowActive || w.Active
		}
	}
	if hasAllow && !allowActive {
		return true, "outside every allow window"
	}
	return false, ""
}

func windowMatches(w SyncWindow, a ArgoApp) bool {
	if len(w.Applications) == 0 && len(w.Namespaces) == 0 && len(w.Clusters) == 0 {
		return false
	}
	return anyMatch(w.Applications, a.Name) || anyMatch(w.Namespaces, a.DestNamespace) || anyMatch(w.Clusters, a.DestServer)
}

func anyMatch(patterns []string, s string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, s); ok {
			return true
		}
	}
	return false
}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// windowActive reports whether a window is open at now: some activation
// of its schedule lies within (now-duration, now].
func windowActive(w SyncWindow, now time.Time) bool {
	sched, err := cronParser.Parse(w.Schedule)
	if err != nil {
		return false
	}
	d, err := time.ParseDuration(w.Duration)
	if err != nil || d <= 0 {
		return false
	}
	loc := time.UTC
	if w.TimeZone != "" {
		if l, err := time.LoadLocation(w.TimeZone); err == nil {
			loc = l
		}
	}
	t := now.In(loc)
	next := sched.Next(t.Add(-d))
	return !next.After(t)
}

// ArgoProjectOf describes an AppProject.
func ArgoProjectOf(u *unstructured.Unstructured) ArgoProject {
	p := ArgoProject{Namespace: u.GetNamespace(), Name: u.GetName()}
	for _, w := range list(u.Object, "spec", "syncWindows") {
		m, ok := w.(map[string]any)
		if !ok {
			continue
		}
		p.Windows = append(p.Windows, SyncWindow{
			Kind: str(m, "kind"), Schedule: str(m, "schedule"), Duration: str(m, "duration"), TimeZone: str(m, "timeZone"),
			Applications: strs(m, "applications"), Namespaces: strs(m, "namespaces"), Clusters: strs(m, "clusters"),
			ManualSync: boolean(m, "manualSync"),
		})
	}
	return p
}

// argoByWorkload maps workload keys to the Application managing them.
func argoByWorkload(apps []*unstructured.Unstructured) map[string]ArgoAppRef {
	out := map[string]ArgoAppRef{}
	for _, u := range apps {
		ref := ArgoAppRef{Namespace: u.GetNamespace(), Name: u.GetName(),
			Sync: str(u.Object, "status", "sync", "status"), Health: str(u.Object, "status", "health", "status")}
		for _, r := range list(u.Object, "status", "resources") {
			m, ok := r.(map[string]any)
			if !ok {
				continue
			}
			out[str(m, "namespace")+"/"+str(m, "name")+"/"+str(m, "kind")] = ref
		}
	}
	return out
}

func assembleGitOps(snap *Snapshot, objs Objects, now time.Time) {
	snap.ArgoProjects = nil
	windows := map[string][]SyncWindow{}
	for _, u := range objs.AppProjects {
		p := ArgoProjectOf(u)
		for i := range p.Windows {
			p.Windows[i].Active = windowActive(p.Windows[i], now)
		}
		windows[p.Name] = p.Windows
		snap.ArgoProjects = append(snap.ArgoProjects, p)
	}
	sort.Slice(snap.ArgoProjects, func(i, j int) bool { return snap.ArgoProjects[i].Name < snap.ArgoProjects[j].Name })
	snap.ArgoApps = nil
	for _, u := range objs.Applications {
		snap.ArgoApps = append(snap.ArgoApps, ArgoAppOf(u, windows[str(u.Object, "spec", "project")], now))
	}
	sort.Slice(snap.ArgoApps, func(i, j int) bool {
		return snap.ArgoApps[i].Namespace+"/"+snap.ArgoApps[i].Name < snap.ArgoApps[j].Namespace+"/"+snap.ArgoApps[j].Name
	})

	snap.ExternalSecrets = nil
	for _, u := range objs.ExternalSecrets {
		snap.ExternalSecrets = append(snap.ExternalSecrets, ExternalSecretOf(u, now))
	}
	for _, u := range objs.ClusterExternalSecrets {
		snap.ExternalSecrets = append(snap.ExternalSecrets, ExternalSecretOf(u, now))
	}
	sort.Slice(snap.ExternalSecrets, func(i, j int) bool {
		a, b := snap.ExternalSecrets[i], snap.ExternalSecrets[j]
		return a.Kind+"/"+a.Namespace+"/"+a.Name < b.Kind+"/"+b.Namespace+"/"+b.Name
	})
	snap.SecretStores = nil
	for _, stores := range [][]*unstructured.Unstructured{objs.SecretStores, objs.ClusterSecretStores} {
		for _, u := range stores {
			snap.SecretStores = append(snap.SecretStores, SecretStoreOf(u))
		}
	}
	snap.SealedSecrets = nil
	for _, u := range objs.SealedSecrets {
		snap.SealedSecrets = append(snap.SealedSecrets, SealedSecretOf(u))
	}
	sort.Slice(snap.SealedSecrets, func(i, j int) bool {
		return snap.SealedSecrets[i].Namespace+"/"+snap.SealedSecrets[i].Name < snap.SealedSecrets[j].Namespace+"/"+snap.SealedSecrets[j].Name
	})
}

// ExternalSecretOf describes an ExternalSecret or ClusterExternalSecret.
func ExternalSecretOf(u *unstructured.Unstructured, now time.Time) ExternalSecretInfo {
	o := u.Object
	spec := []string{"spec"}
	if u.GetKind() == "ClusterExternalSecret" {
		spec = []string{"spec", "externalSecretSpec"}
	}
	at := func(f ...string) []string { return append(append([]string(nil), spec...), f...) }
	e := ExternalSecretInfo{
		Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName(),
		Store: str(o, at("secretStoreRef", "name")...), StoreKind: str(o, at("secretStoreRef", "kind")...),
		Target: str(o, at("target", "name")...), RefreshInterval: str(o, at("refreshInterval")...),
		LastRefresh: when(o, "status", "refreshTime"), Namespaces: strs(o, "status", "provisionedNamespaces"),
	}
	if e.Kind == "" {
		e.Kind = "ExternalSecret"
	}
	if e.StoreKind == "" {
		e.StoreKind = "SecretStore"
	}
	if e.Target == "" && e.Kind == "ExternalSecret" {
		e.Target = e.Name
	}
	if e.RefreshInterval == "" && e.Kind == "ExternalSecret" {
		e.RefreshInterval = "1h" // the operator's default
	}
	if c, ok := condition(conditions(o, "status", "conditions"), "Ready"); ok {
		e.Ready, e.Reason, e.Message = c.Status == "True", c.Reason, c.Message
	}
	if d, err := time.ParseDuration(e.RefreshInterval); err == nil && d > 0 && !e.LastRefresh.IsZero() {
		e.Stale = now.Sub(e.LastRefresh) > 2*d
	}
	return e
}

// SecretStoreOf describes a SecretStore or ClusterSecretStore.
func SecretStoreOf(u *unstructured.Unstructured) SecretStoreInfo {
	s := SecretStoreInfo{Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName()}
	if p, ok, _ := unstructured.NestedMap(u.Object, "spec", "provider"); ok {
		for k := range p {
			s.Provider = k
		}
	}
	if c, ok := condition(conditions(u.Object, "status", "conditions"), "Ready"); ok {
		s.Ready, s.Reason, s.Message = c.Status == "True", c.Reason, c.Message
	}
	return s
}

// SealedSecretOf describes a SealedSecret: the names of its keys, never values.
func SealedSecretOf(u *unstructured.Unstructured) SealedSecretInfo {
	s := SealedSecretInfo{Namespace: u.GetNamespace(), Name: u.GetName()}
	if data, ok, _ := unstructured.NestedMap(u.Object, "spec", "encryptedData"); ok {
		for k := range data {
			s.Keys = append(s.Keys, k)
		}
		sort.Strings(s.Keys)
	}
	if c, ok := condition(conditions(u.Object, "status", "conditions"), "Synced"); ok {
		s.Synced, s.Reason, s.Message = c.Status == "True", c.Reason, c.Message
	}
	return s
}

func secretsMeta(items []*corev1.Secret) []SecretMeta {
	out := make([]SecretMeta, 0, len(items))
	for _, m := range items {
		s := SecretMeta{Namespace: m.Namespace, Name: m.Name, Created: m.CreationTimestamp.Time}
		if ref := metav1.GetControllerOfNoCopy(m); ref != nil {
			s.OwnerKind, s.OwnerName = ref.Kind, ref.Name
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Namespace+"/"+out[i].Name < out[j].Namespace+"/"+out[j].Name })
	return out
}

// recentEvents returns at most max events, newest first. Event times have
// whole seconds, so a rollout's ten Normal events and a Warning often share
// one: within a second, warnings come first, so that a cut to the newest
// few keeps them; then by object, reason and message, the same order on
// every build.
func recentEvents(items []*corev1.Event, max int) []KubeEvent {
	out := make([]KubeEvent, 0, min(len(items), max))
	for _, e := range items {
		last := eventTime(e)
		count := e.Count
		if e.Series != nil && e.Series.Count > count {
			count = e.Series.Count
		}
		out = append(out, KubeEvent{Namespace: e.Namespace, Kind: e.InvolvedObject.Kind, Name: e.InvolvedObject.Name,
			Type: e.Type, Reason: e.Reason, Message: strings.TrimSpace(e.Message), Count: max32(count, 1), Last: last})
	}
	sort.Slice(out, func(i, j int) bool { return newerEvent(out[i], out[j]) })
	if len(out) > max {
		out = out[:max]
	}
	return out
}

// newerEvent orders events for recentEvents.
func newerEvent(a, b KubeEvent) bool {
	if !a.Last.Equal(b.Last) {
		return a.Last.After(b.Last)
	}
	if aw, bw := a.Type == corev1.EventTypeWarning, b.Type == corev1.EventTypeWarning; aw != bw {
		return aw
	}
	return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name),
		cmp.Compare(a.Reason, b.Reason), cmp.Compare(a.Message, b.Message)) < 0
}

// eventTime is when an event last happened: its series' last observation, its last
// timestamp, its event time or, failing all, its creation.
func eventTime(e *corev1.Event) time.Time {
	last := e.LastTimestamp.Time
	if e.Series != nil && e.Series.LastObservedTime.After(last) {
		last = e.Series.LastObservedTime.Time
	}
	if last.IsZero() {
		last = e.EventTime.Time
	}
	if last.IsZero() {
		last = e.CreationTimestamp.Time
	}
	return last
}

func max32(a, b int32) int32 {
	if a > b {
		return a
	}
	return b
}
