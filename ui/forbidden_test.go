package ui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/estate"
)

// refused is the session's report of a resource it may not list/watch
// (cluster/collect.go's wording), in namespaces (none: everywhere).
func refused(res string, ns ...string) estate.ResourceStatus {
	return estate.ResourceStatus{Resource: res, Access: estate.AccessDenied, Namespaces: ns, Reason: "list/watch of " + res + " refused"}
}

// reviewerEstate is local-1 as the view-only reviewer reads it: the view
// ClusterRole does not aggregate the custom resources, so Applications,
// ExternalSecrets, secret stores, SealedSecrets and VPAs are refused (and
// their lists empty); here HPAs and PDBs are refused in one namespace too.
func reviewerEstate() estate.Snapshot {
	s := seedEstate(2)
	s.ArgoApps, s.ExternalSecrets, s.SecretStores, s.SealedSecrets, s.VPAs = nil, nil, nil, nil, nil
	for i := range s.Services {
		s.Services[i].Argo, s.Services[i].VPA = estate.ArgoAppRef{}, estate.VPAInfo{}
	}
	s.Resources = []estate.ResourceStatus{
		refused(checks.ResApplications), refused(checks.ResClusterExtSecrets), refused(checks.ResClusterSecretStores),
		refused(checks.ResExternalSecrets), refused(checks.ResHPAs, "fintech-staging"), refused(checks.ResPDBs, "fintech-prod"),
		refused(checks.ResSealedSecrets), refused(checks.ResSecretStores), refused(checks.ResVPAs),
	}
	return s
}

// open shows a palette command's screen.
func open(m *Model, cmd string) {
	run(m, press(":"))
	typeText(m, cmd)
	run(m, press("enter"))
}

// wantLines checks screen says each of want (wrapped or not) and none of never.
func wantLines(t *testing.T, screen string, want, never []string) {
	t.Helper()
	flat := strings.Join(strings.Fields(screen), " ")
	for _, w := range want {
		if !strings.Contains(flat, w) {
			t.Errorf("no %q on screen:\n%s", w, screen)
		}
	}
	for _, n := range never {
		if strings.Contains(screen, n) {
			t.Errorf("%q on screen, where the truth is that vigil may not read it:\n%s", n, screen)
		}
	}
}

// The GitOps screen says each refused kind is forbidden, with the reason,
// where it said "no Applications", "no ExternalSecrets" and counted 0.
func TestGitOpsSaysForbidden(t *testing.T) {
	eachSize(t, func(t *testing.T, w, h int) {
		m := newModelWith(t, w, h, &fakeBackend{}, nil)
		run(m, SnapshotMsg{Snapshot: reviewerEstate()})
		open(m, "gitops")
		wantLines(t, screenText(m), []string{
			"ARGO CD APPLICATIONS (forbidden)", "forbidden: list/watch of applications.argoproj.io refused",
			"EXTERNAL SECRETS (forbidden)", "forbidden: list/watch of externalsecrets.external-secrets.io refused",
			"SECRET STORES (forbidden)", "forbidden: list/watch of secretstores.external-secrets.io refused",
			"SEALED SECRETS (forbidden)", "forbidden: list/watch of sealedsecrets.bitnami.com refused",
		}, []string{"no Applications", "no ExternalSecrets", "(0)"})
	})
}

// A failing API and one not installed are said as such on the same lines.
func TestGitOpsSaysFailingAndNotInstalled(t *testing.T) {
	s := reviewerEstate()
	s.Resources = []estate.ResourceStatus{
		{Resource: checks.ResApplications, Access: estate.AccessFailing, Reason: "the server is currently unable to handle the request"},
		{Resource: checks.ResExternalSecrets, Access: estate.AccessNotInstalled}, {Resource: checks.ResClusterExtSecrets, Access: estate.AccessNotInstalled},
		{Resource: checks.ResSecretStores, Access: estate.AccessNotInstalled}, {Resource: checks.ResClusterSecretStores, Access: estate.AccessNotInstalled},
	}
	s.Installed = map[string]bool{"argoproj.io": true, "external-secrets.io": false, "bitnami.com": false}
	m := newModelWith(t, 120, 30, &fakeBackend{}, nil)
	run(m, SnapshotMsg{Snapshot: s})
	open(m, "gitops")
	wantLines(t, screenText(m), []string{
		"ARGO CD APPLICATIONS (failing)", "failing: the server is currently unable to handle the request",
		"EXTERNAL SECRETS (not installed)", "not installed in this cluster (no external-secrets.io API)",
		"SEALED SECRETS (not installed)", "not installed in this cluster (no bitnami.com API)",
	}, []string{"no Applications", "no ExternalSecrets", "SECRET STORES"})
}

// Part of a kind refused: what is read is listed, and the count says the
// rest is forbidden.
func TestGitOpsSaysPartlyForbidden(t *testing.T) {
	s := seedEstate(2)
	s.Resources = []estate.ResourceStatus{refused(checks.ResExternalSecrets, "fintech-staging")}
	m := newModelWith(t, 160, 45, &fakeBackend{}, nil)
	run(m, SnapshotMsg{Snapshot: s})
	open(m, "gitops")
	wantLines(t, screenText(m), []string{
		"EXTERNAL SECRETS (2 seen, rest forbidden)", "forbidden in fintech-staging: list/watch of externalsecrets.external-secrets.io refused",
		"fintech-prod/payment-service-secrets",
	}, nil)
}

// The Autoscaling screen counts VPAs as forbidden, says why, and a
// workload's VPA column says forbidden, not "no VPA".
func TestAutoscalingSaysForbidden(t *testing.T) {
	eachSize(t, func(t *testing.T, w, h int) {
		m := newModelWith(t, w, h, &fakeBackend{}, nil)
		run(m, SnapshotMsg{Snapshot: reviewerEstate()})
		open(m, "hpa")
		wantLines(t, screenText(m), []string{
			"1 HPAs seen, rest forbidden · VPAs forbidden",
			"HorizontalPodAutoscalers forbidden in fintech-staging: list/watch of horizontalpodautoscalers.autoscaling refused",
			"VerticalPodAutoscalers forbidden: list/watch of verticalpodautoscalers.autoscaling.k8s.io refused",
			"VPA forbidden",
		}, []string{"0 VPAs", "no VPA", "without an HPA or VPA"})
	})
}

// The Services list's HPA and ARGO cells say forbidden where vigil cannot
// tell a service has none; the detail says it of the Argo CD application,
// the autoscalers and the PDB.
func TestServicesSayForbidden(t *testing.T) {
	m := newModelWith(t, 160, 45, &fakeBackend{}, nil)
	run(m, SnapshotMsg{Snapshot: reviewerEstate()})
	screen := screenText(m)
	staging := lineWith(screen, "fintech-staging", "user-service")
	if strings.Count(staging, "forbidden") != 2 {
		t.Errorf("fintech-staging/user-service row %q: its HPA and ARGO cells should say forbidden", staging)
	}
	if prod := lineWith(screen, "fintech-prod", "payment-service"); strings.Count(prod, "forbidden") != 1 {
		t.Errorf("fintech-prod/payment-service row %q: HPAs are read in fintech-prod, Applications nowhere: one forbidden cell", prod)
	}

	m = newModelWith(t, 160, 90, &fakeBackend{}, nil)
	run(m, SnapshotMsg{Snapshot: reviewerEstate()})
	typeText(m, "/payment")
	run(m, press("enter"))
	run(m, press("enter"))
	wantLines(t, screenText(m), []string{
		"argo cd forbidden: list/watch of applications.argoproj.io refused",
		"pdb forbidden: list/watch of poddisruptionbudgets.policy refused",
		"no HorizontalPodAutoscaler targets this workload",
		"VerticalPodAutoscalers forbidden: list/watch of verticalpodautoscalers.autoscaling.k8s.io refused",
	}, []string{"no VerticalPodAutoscaler targets"})
}

// lineWith is the first line of screen holding every part.
func lineWith(screen string, parts ...string) string {
	for l := range strings.SplitSeq(screen, "\n") {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			return l
		}
	}
	return ""
}

// TestServicesSaysWorkloadsRefused: a user refused Deployments and StatefulSets (an
// anonymous context) saw "no Deployments or StatefulSets in the watched namespaces", as if
// the namespaces were empty; the list now says it could not look, and why. A user refused
// them in one namespace of four, whose other namespaces are empty, is told of that one.
func TestServicesSaysWorkloadsRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		ns   []string
		want string
	}{
		{"everywhere", nil, "no Deployments or StatefulSets seen: forbidden: list/watch of deployments.apps refused"},
		{"in-one-namespace", []string{"fintech-prod"}, "no Deployments or StatefulSets seen: forbidden in fintech-prod: list/watch of deployments.apps refused"},
	} {
		t.Run(c.name, func(t *testing.T) {
			snap := seedEstate(2)
			snap.Services = nil
			snap.Resources = []estate.ResourceStatus{refused(checks.ResDeployments, c.ns...), refused(checks.ResStatefulSets, c.ns...)}
			m := newModelWith(t, 200, 40, &fakeBackend{}, newFakeActions())
			run(m, SnapshotMsg{Snapshot: snap})
			wantLines(t, screenText(m), []string{c.want}, []string{"no Deployments or StatefulSets in the watched namespaces"})
		})
	}
	snap := seedEstate(2)
	snap.Services = nil
	m := newModelWith(t, 200, 40, &fakeBackend{}, newFakeActions())
	run(m, SnapshotMsg{Snapshot: snap})
	wantLines(t, screenText(m), []string{"no Deployments or StatefulSets in the watched namespaces"}, []string{"seen:"})
}

// TestAutoscalingNamesEveryServiceWithoutOne: at 80 columns, with many services, the list of
// services no HPA or VPA targets names every one, wrapped, none cut at the edge. Which ones is
// worked out here from the snapshot's own targets.
func TestAutoscalingNamesEveryServiceWithoutOne(t *testing.T) {
	s := seedEstate(2)
	for i := range 12 {
		s.Services = append(s.Services, svc("fintech-staging", fmt.Sprintf("batch-worker-%02d", i), estate.StatusOK, "", 1, 1))
	}
	targeted := map[string]bool{}
	for _, h := range s.HPAs {
		targeted[h.Namespace+"/"+h.TargetKind+"/"+h.TargetName] = true
	}
	for _, v := range s.VPAs {
		targeted[v.Namespace+"/"+v.TargetKind+"/"+v.TargetName] = true
	}
	var want []string
	for _, sv := range s.Services {
		if !targeted[sv.Namespace+"/"+sv.Kind+"/"+sv.Name] && sv.Kind != "DaemonSet" {
			want = append(want, sv.Namespace+"/"+sv.Name)
		}
	}
	if len(want) < 12 {
		t.Fatalf("precondition: %d services without an autoscaler", len(want))
	}
	m := newModelWith(t, 80, 120, &fakeBackend{}, nil)
	run(m, SnapshotMsg{Snapshot: s})
	open(m, "hpa")
	screen := screenText(m)
	_, list, _ := strings.Cut(screen, "services without an HPA or VPA:")
	if strings.Contains(list, "…") {
		t.Errorf("the list is cut:\n%s", list)
	}
	for _, name := range want {
		// Each name whole on one line: broken at its "-" or "/" it reads as two.
		if !strings.Contains(list, name) {
			t.Errorf("%s is not whole on one line:\n%s", name, list)
		}
	}
	wantLines(t, screen, append([]string{fmt.Sprintf("%d services without an HPA or VPA:", len(want))}, want...), nil)
}
