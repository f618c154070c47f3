package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/gitops"
)

// longArgoDiff is what a sync of fintech-app would change: three resources of 30 diff lines.
func longArgoDiff() estate.ArgoDiff {
	d := estate.ArgoDiff{Same: 4, Hooks: 1}
	for i, name := range []string{"payment-service", "payment-flags", "payment-db"} {
		r := estate.ArgoResourceDiff{Kind: []string{"Deployment", "ConfigMap", "Secret"}[i], Namespace: "fintech-prod", Name: name, Change: "modified",
			Fields: []string{"spec.template.spec.containers[payment-service].image"}}
		if i == 0 {
			r.Group = "apps"
		}
		r.Lines = []string{"--- live " + name, "+++ desired " + name, "@@ -1,28 +1,28 @@"}
		for j := range 27 {
			r.Lines = append(r.Lines, fmt.Sprintf(" line %d of %s", j, name))
		}
		r.Lines = append(r.Lines, "-        image: registry.fintech.internal/payment-service:v1.2.3", "+        image: registry.fintech.internal/payment-service:v1.2.4")
		d.Resources = append(d.Resources, r)
	}
	return d
}

// argoDiffModel is the root model with the GitOps screen on and the argo diff fetch given.
func argoDiffModel(t *testing.T, w, h int, fetch func(ctx context.Context, ns, name string) (estate.ArgoDiff, error), off string) *Model {
	t.Helper()
	m := newModelWith(t, w, h, &fakeBackend{}, nil)
	m.data.ArgoDiff, m.data.ArgoDiffOff = fetch, off
	run(m, SnapshotMsg{Snapshot: seedEstate(2)})
	run(m, screenMsgFor("gitops"))
	return m
}

// TestArgoDiffOnTheGitOpsScreen: d on an application asks for what a sync of it would change
// and shows it, scrollable, resource by resource (n/N jump between them), with the summary;
// esc goes back. In Kubernetes mode d says that the diff needs the Argo CD server and how to
// configure it, asking nothing; on an ExternalSecret it says it needs an application.
func TestArgoDiffOnTheGitOpsScreen(t *testing.T) {
	var asked []string
	m := argoDiffModel(t, 120, 30, func(_ context.Context, ns, name string) (estate.ArgoDiff, error) {
		asked = append(asked, ns+"/"+name)
		return longArgoDiff(), nil
	}, "")
	run(m, press("d"))
	dv, ok := m.Top().(*gitops.Diff)
	if !ok || len(asked) != 1 || asked[0] != "argocd/fintech-app" {
		t.Fatalf("d opened %T asking %v", m.Top(), asked)
	}
	v := ansi.Strip(m.Render())
	for _, want := range []string{"what Argo CD would change for argocd/fintech-app (Synced) · 3 resources would change, 4 unchanged, 1 hook not diffed",
		"apps/Deployment fintech-prod/payment-service  (modified)", "changed: spec.template.spec.containers[payment-service].image", "n/N next/prev resource"} {
		if !strings.Contains(v, want) {
			t.Errorf("the diff view lacks %q:\n%s", want, v)
		}
	}
	// n goes to the next resource's heading, N back; the lines are the diff's, in order.
	heading := func(title string) int {
		for i, l := range dv.Lines() {
			if strings.HasPrefix(l, title) {
				return i
			}
		}
		t.Fatalf("no heading %q", title)
		return -1
	}
	run(m, press("n"))
	if got, want := dv.Offset(), heading("ConfigMap fintech-prod/payment-flags"); got != want {
		t.Fatalf("n scrolled to line %d, want the ConfigMap's heading at %d", got, want)
	}
	run(m, press("n"))
	run(m, press("N"))
	if got, want := dv.Offset(), heading("ConfigMap fintech-prod/payment-flags"); got != want {
		t.Fatalf("n n N is at line %d, want %d", got, want)
	}
	run(m, press("G"))
	if v := ansi.Strip(m.Render()); !strings.Contains(v, "+        image: registry.fintech.internal/payment-service:v1.2.4") {
		t.Errorf("the end of the diff:\n%s", v)
	}
	run(m, press("esc"))
	if _, ok := m.Top().(*gitops.Diff); ok {
		t.Fatal("esc left the diff open")
	}

	// A fetch that fails says why, in the view.
	m = argoDiffModel(t, 120, 30, func(context.Context, string, string) (estate.ArgoDiff, error) {
		return estate.ArgoDiff{}, fmt.Errorf("argocd server https://argocd.fintech.internal GET /api/v1/applications/fintech-app/managed-resources: 403 Forbidden: permission denied")
	}, "")
	run(m, press("d"))
	if v := ansi.Strip(m.Render()); !strings.Contains(v, "managed-resources: 403 Forbidden") || !strings.Contains(v, "permission denied") {
		t.Errorf("a refused diff:\n%s", v)
	}

	// Kubernetes mode: the view says what is needed, nothing is asked.
	off := "what Argo CD would change needs the Argo CD server: set argocd.mode: server with argocd.server and argocd.tokenFile"
	m = argoDiffModel(t, 120, 30, nil, off)
	run(m, press("d"))
	if _, ok := m.Top().(*gitops.Diff); !ok {
		t.Fatalf("d in Kubernetes mode opened %T", m.Top())
	}
	if v := ansi.Strip(m.Render()); !strings.Contains(v, "needs the Argo CD server: set argocd.mode: server with argocd.server and argocd.tokenFile") ||
		!strings.Contains(v, "Kubernetes mode") {
		t.Errorf("Kubernetes mode:\n%s", v)
	}
	run(m, press("esc"))
	run(m, press("j")) // the ExternalSecret
	run(m, press("d"))
	if _, ok := m.Top().(*gitops.Diff); ok {
		t.Fatal("d on an ExternalSecret opened a diff")
	}
	if v := ansi.Strip(m.Render()); !strings.Contains(v, "no application selected") {
		t.Errorf("d on an ExternalSecret:\n%s", v)
	}
}
