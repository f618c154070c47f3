package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/estate"
)

// TestSeededEstateLocal1 shows the whole derived model of the seeded estate:
// pods, revisions, VPA, PDB, HPA-less api-gateway, Argo CD apps with history
// and sync windows, ExternalSecrets, SealedSecrets, Secrets as metadata,
// usage from metrics.k8s.io, a missing namespace reported, and the live
// Inventory for the checks.
func TestSeededEstateLocal1(t *testing.T) {
	s := start(t, "local-1", func(o *cluster.Options) {
		o.Namespaces = append(append([]string(nil), config.DefaultNamespaces...), "fintech-dr")
	})
	// The seed's rollouts and crash loops settle after the cluster is up:
	// wait for the settled estate (a test run first meets it still moving).
	snap := waitSnap(t, s, 90*time.Second, "a synced snapshot of the settled estate with usage", func(s estate.Snapshot) bool {
		pay, ok := service(s, "fintech-prod", "payment-service")
		settled := ok && len(pay.Pods) == 2 && !pay.Pods[0].Terminating && !pay.Pods[1].Terminating
		n, ok := service(s, "fintech-prod", "notification-service")
		settled = settled && ok && strings.Contains(n.Health.Reason, "CrashLoopBackOff")
		return s.Synced && s.Usage.Available && settled
	})

	if !hasProblem(snap, `namespace "fintech-dr" does not exist`) {
		t.Errorf("Problems = %q, want the missing namespace reported", snap.Problems)
	}
	pay, ok := service(snap, "fintech-prod", "payment-service")
	if !ok {
		t.Fatalf("no payment-service in %d services", len(snap.Services))
	}
	if pay.PodCount != 2 || len(pay.Pods) != 2 || pay.Pods[0].Node == "" || len(pay.Pods[0].Containers) == 0 {
		t.Errorf("payment-service pods = %+v", pay.Pods)
	}
	if len(pay.Revisions) != 3 || pay.Revisions[0].Number != 3 || !pay.Revisions[0].Current || !strings.Contains(strings.Join(pay.Revisions[0].Images, ","), "v1.2.3") {
		t.Errorf("payment-service revisions = %+v, want 3 newest first, current v1.2.3", pay.Revisions)
	}
	if pay.VPA.Name != "payment-service-vpa" || len(pay.VPA.Containers) == 0 || pay.VPA.Containers[0].Target.CPU == 0 {
		t.Errorf("payment-service VPA = %+v", pay.VPA)
	}
	if pay.PDB.Name == "" || pay.PDB.MinAvailable != "1" {
		t.Errorf("payment-service PDB = %+v", pay.PDB)
	}
	if len(pay.Endpoints) == 0 {
		t.Errorf("payment-service has no Service in front")
	}
	if !pay.Usage.Available || pay.Usage.CPU == 0 || pay.Usage.CPURequest == 0 {
		t.Errorf("payment-service usage = %+v", pay.Usage)
	}
	if n, ok := service(snap, "fintech-prod", "notification-service"); !ok || n.Health.Status != estate.StatusDown || !strings.Contains(n.Health.Reason, "CrashLoopBackOff") {
		t.Errorf("notification-service health = %+v", n.Health)
	}
	if pg, ok := service(snap, "fintech-prod", "postgres"); !ok || pg.Kind != "StatefulSet" || len(pg.Revisions) == 0 {
		t.Errorf("postgres = %+v, want a StatefulSet with ControllerRevisions", pg.Revisions)
	}

	if !snap.Installed["argoproj.io"] || !snap.Installed["autoscaling.k8s.io"] {
		t.Errorf("Installed = %v", snap.Installed)
	}
	var app estate.ArgoApp
	for _, a := range snap.ArgoApps {
		if a.Name == "fintech-app" {
			app = a
		}
	}
	if app.Sync != "Synced" || app.Health != "Healthy" || len(app.History) != 3 || app.History[0].ID != 2 {
		t.Errorf("fintech-app = %+v", app)
	}
	if len(snap.ArgoProjects) == 0 || len(snap.ArgoProjects[0].Windows) == 0 {
		t.Errorf("ArgoProjects = %+v, want fintech-project's deny window", snap.ArgoProjects)
	}
	var bad estate.ExternalSecretInfo
	for _, e := range snap.ExternalSecrets {
		if e.Name == "notification-provider-secrets" {
			bad = e
		}
	}
	if bad.Ready || bad.Reason == "" {
		t.Errorf("notification-provider-secrets = %+v, want not Ready with a reason", bad)
	}
	if len(snap.SealedSecrets) == 0 || !snap.SealedSecrets[0].Synced || len(snap.SealedSecrets[0].Keys) == 0 {
		t.Errorf("SealedSecrets = %+v", snap.SealedSecrets)
	}
	if len(snap.Secrets) == 0 || len(snap.Events) == 0 {
		t.Errorf("Secrets = %d, Events = %d; want both", len(snap.Secrets), len(snap.Events))
	}

	inv := s.Inventory()
	if len(inv.Deployments) == 0 || len(inv.Secrets) == 0 || len(inv.Applications) == 0 || len(inv.VPAs) == 0 || !inv.Installed[checks.GroupArgoCD] {
		t.Fatalf("Inventory: %d deployments, %d secrets, %d apps, %d VPAs, installed %v", len(inv.Deployments), len(inv.Secrets), len(inv.Applications), len(inv.VPAs), inv.Installed)
	}
	for _, sec := range inv.Secrets {
		if len(sec.Data) > 0 || len(sec.StringData) > 0 {
			t.Fatalf("Inventory secret %s/%s carries data", sec.Namespace, sec.Name)
		}
	}
	if len(inv.ClusterRoles) == 0 {
		t.Errorf("Inventory has no ClusterRoles though the admin may list them")
	}
}

// TestMissingCRDsLocal2: Argo CD's CRDs are absent on local-2: "not
// installed" from discovery, no error loop, everything else synced; the
// other failing service is there.
func TestMissingCRDsLocal2(t *testing.T) {
	s := start(t, "local-2", nil)
	snap := waitSnap(t, s, 90*time.Second, "a synced snapshot", func(s estate.Snapshot) bool { return s.Synced && len(s.Services) > 0 })
	if snap.Installed["argoproj.io"] {
		t.Errorf("Installed[argoproj.io] = true on local-2")
	}
	if r := resource(snap, "applications.argoproj.io"); r.Access != estate.AccessNotInstalled || r.Access.String() != "not installed" {
		t.Errorf("applications.argoproj.io = %+v, want not installed", r)
	}
	if len(snap.ArgoApps) != 0 || !snap.Conn.Connected {
		t.Errorf("ArgoApps = %d, Conn = %+v", len(snap.ArgoApps), snap.Conn)
	}
	pay, _ := service(snap, "fintech-prod", "payment-service")
	if pay.Health.Status != estate.StatusDown || !strings.Contains(pay.Health.Reason, "ImagePull") {
		t.Errorf("local-2 payment-service health = %+v", pay.Health)
	}
	if len(snap.VPAs) == 0 {
		t.Errorf("VPAs missing on local-2 (the VPA CRDs are installed there)")
	}
}

// TestReviewerForbiddenSecrets: the view-only reviewer may not list
// Secrets, RBAC or the custom resources (view does not aggregate them):
// those are "no access" (not "not installed"), the rest works.
func TestReviewerForbiddenSecrets(t *testing.T) {
	s := start(t, "local-1-reviewer", nil)
	// Run first in the package, the seed's rollouts may still be replacing payment-service's
	// pods: wait for the estate to settle (its old pods gone) before judging what it shows.
	snap := waitSnap(t, s, 90*time.Second, "a synced, settled snapshot", func(s estate.Snapshot) bool {
		pay, ok := service(s, "fintech-prod", "payment-service")
		return s.Synced && ok && pay.PodCount == 2
	})
	if r := resource(snap, "secrets"); r.Access != estate.AccessDenied || len(r.Namespaces) != len(config.DefaultNamespaces) {
		t.Errorf("secrets = %+v, want no access in every watched namespace", r)
	}
	if !hasProblem(snap, "secrets, ") || !hasProblem(snap, "in fintech-prod") {
		t.Errorf("Problems = %q, want secrets named as no access in fintech-prod", snap.Problems)
	}
	if len(snap.Secrets) != 0 {
		t.Errorf("reviewer sees %d secrets", len(snap.Secrets))
	}
	if pay, ok := service(snap, "fintech-prod", "payment-service"); !ok || pay.PodCount != 2 || len(pay.Revisions) == 0 {
		t.Errorf("reviewer lost services: %d services, payment-service %+v", len(snap.Services), pay)
	}
	if r := resource(snap, "applications.argoproj.io"); r.Access != estate.AccessDenied || !snap.Installed["argoproj.io"] {
		t.Errorf("applications for the reviewer = %+v, installed %v; want installed but no access", r, snap.Installed["argoproj.io"])
	}
	if r := resource(snap, "clusterroles.rbac.authorization.k8s.io"); r.Access != estate.AccessDenied || len(r.Namespaces) != 0 {
		t.Errorf("clusterroles for the reviewer = %+v, want no access cluster-wide", r)
	}
	if inv := s.Inventory(); inv.Forbidden[checks.ResSecrets] == "" {
		t.Errorf("Inventory.Forbidden = %v, want secrets", inv.Forbidden)
	}
}
