package actions

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Why not the argo-cd Go module: its v2 API client pins client-go v0.31 and cannot build
// with our v0.37; v3.6 needs Go 1.27 and a replace directive (which breaks `go install`) and
// adds ~55 MB. So vigil mirrors the few Argo CD API types it writes, with Argo's JSON tags,
// so that the `.operation` it stores is byte-for-byte what argocd-server would store, and
// reads everything else from unstructured objects.

var (
	gvrApplication = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}
	gvrAppProject  = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "appprojects"}
)

// argoOperation mirrors v1alpha1.Operation. InitiatedBy and Retry are structs, so
// encoding/json writes them even when empty — as Argo CD does.
type argoOperation struct {
	Sync        *argoSyncOperation `json:"sync,omitempty"`
	InitiatedBy argoInitiator      `json:"initiatedBy,omitempty"`
	Info        []map[string]any   `json:"info,omitempty"`
	// Retry is the application's spec.syncPolicy.retry, or {} (never omitted, as in Argo CD).
	Retry map[string]any `json:"retry"`
}

type argoInitiator struct {
	Username  string `json:"username,omitempty"`
	Automated bool   `json:"automated,omitempty"`
}

// argoSyncOperation mirrors v1alpha1.SyncOperation.
type argoSyncOperation struct {
	Revision     string            `json:"revision,omitempty"`
	Prune        bool              `json:"prune,omitempty"`
	DryRun       bool              `json:"dryRun,omitempty"`
	SyncStrategy *argoSyncStrategy `json:"syncStrategy,omitempty"`
	Resources    []map[string]any  `json:"resources,omitempty"`
	Source       map[string]any    `json:"source,omitempty"`
	Manifests    []string          `json:"manifests,omitempty"`
	SyncOptions  []string          `json:"syncOptions,omitempty"`
	Sources      []map[string]any  `json:"sources,omitempty"`
	Revisions    []string          `json:"revisions,omitempty"`
}

type argoSyncStrategy struct {
	Apply *argoSyncStrategyApply `json:"apply,omitempty"`
}

type argoSyncStrategyApply struct {
	Force bool `json:"force,omitempty"`
}

// toUnstructured turns a mirrored value into the map form an unstructured object holds.
func toUnstructured(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return runtime.DeepCopyJSON(m), nil
}

// argoApp is the part of an Application vigil reads.
type argoApp struct {
	obj         *unstructured.Unstructured
	name, ns    string
	project     string
	deleting    bool
	operation   map[string]any
	automated   bool
	source      map[string]any
	sources     []map[string]any
	syncOptions []string
	retry       map[string]any
	destNS      string
	destServer  string
	destName    string
	resourceNS  []string // namespaces of the resources it manages (status.resources)
	syncStatus  string
	syncRev     string
	health      string
	history     []argoHistory
	ctrlNS      string
}

type argoHistory struct {
	ID         int64
	Revision   string
	Revisions  []string
	DeployedAt string
	Source     map[string]any
	Sources    []map[string]any
}

func parseArgoApp(u *unstructured.Unstructured) (*argoApp, error) {
	a := &argoApp{obj: u, name: u.GetName(), ns: u.GetNamespace(), deleting: u.GetDeletionTimestamp() != nil}
	o := u.Object
	a.project, _, _ = unstructured.NestedString(o, "spec", "project")
	if a.project == "" {
		a.project = "default"
	}
	a.operation, _, _ = unstructured.NestedMap(o, "operation")
	auto, found, _ := unstructured.NestedFieldNoCopy(o, "spec", "syncPolicy", "automated")
	if found && auto != nil {
		// Argo CD v3: automated.enabled=false turns it off while keeping the settings.
		if m, ok := auto.(map[string]any); !ok || m["enabled"] != false {
			a.automated = true
		}
	}
	a.source, _, _ = unstructured.NestedMap(o, "spec", "source")
	a.sources = nestedMaps(o, "spec", "sources")
	a.syncOptions, _, _ = unstructured.NestedStringSlice(o, "spec", "syncPolicy", "syncOptions")
	a.retry, _, _ = unstructured.NestedMap(o, "spec", "syncPolicy", "retry")
	a.destNS, _, _ = unstructured.NestedString(o, "spec", "destination", "namespace")
	a.destServer, _, _ = unstructured.NestedString(o, "spec", "destination", "server")
	a.destName, _, _ = unstructured.NestedString(o, "spec", "destination", "name")
	a.syncStatus, _, _ = unstructured.NestedString(o, "status", "sync", "status")
	a.syncRev, _, _ = unstructured.NestedString(o, "status", "sync", "revision")
	a.health, _, _ = unstructured.NestedString(o, "status", "health", "status")
	a.ctrlNS, _, _ = unstructured.NestedString(o, "status", "controllerNamespace")
	for _, r := range nestedMaps(o, "status", "resources") {
		if ns, _, _ := unstructured.NestedString(r, "namespace"); ns != "" && !slices.Contains(a.resourceNS, ns) {
			a.resourceNS = append(a.resourceNS, ns)
		}
	}
	hist, _, _ := unstructured.NestedSlice(o, "status", "history")
	for _, h := range hist {
		m, ok := h.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("application %s: status.history holds a %T", a.name, h)
		}
		var e argoHistory
		e.ID = int64Of(m["id"])
		e.Revision, _, _ = unstructured.NestedString(m, "revision")
		e.Revisions, _, _ = unstructured.NestedStringSlice(m, "revisions")
		e.DeployedAt, _, _ = unstructured.NestedString(m, "deployedAt")
		e.Source, _, _ = unstructured.NestedMap(m, "source")
		e.Sources = nestedMaps(m, "sources")
		a.history = append(a.history, e)
	}
	return a, nil
}

// inCluster is Argo CD's name and address of the cluster it runs in.
const (
	inClusterName   = "in-cluster"
	inClusterServer = "https://kubernetes.default.svc"
)

// remote reports whether the application deploys to another cluster than the
// one whose namespaces vigil can check.
func (a *argoApp) remote() bool {
	return (a.destServer != "" && a.destServer != inClusterServer) || (a.destName != "" && a.destName != inClusterName)
}

// int64Of reads an ID as the Kubernetes API (int64), encoding/json (float64) or
// grpc-gateway (string) delivers it.
func int64Of(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int:
		return int64(n)
	case float64:
		return int64(n)
	case json.Number:
		i, _ := n.Int64()
		return i
	case string:
		i, _ := strconv.ParseInt(n, 10, 64)
		return i
	}
	return -1
}

func nestedMaps(o map[string]any, fields ...string) []map[string]any {
	s, _, _ := unstructured.NestedSlice(o, fields...)
	var out []map[string]any
	for _, v := range s {
		if m, ok := v.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func (a *argoApp) historyEntry(id int64) *argoHistory {
	for i := range a.history {
		if a.history[i].ID == id {
			return &a.history[i]
		}
	}
	return nil
}

// operationBy names who started the running operation, for the "in progress" reason.
func (a *argoApp) operationBy() string {
	if u, _, _ := unstructured.NestedString(a.operation, "initiatedBy", "username"); u != "" {
		return u
	}
	if auto, _, _ := unstructured.NestedBool(a.operation, "initiatedBy", "automated"); auto {
		return "automated sync"
	}
	return "someone"
}

func short(rev string) string {
	if len(rev) > 7 {
		return rev[:7]
	}
	return rev
}
