package cluster

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/estate"
)

// StorageClass is one entry of checks.Kinds and nothing else: the session
// watches it cluster-wide after an access review, its objects reach the
// checks' inventory, and a user who may not list it gets "no access" and
// Forbidden (the checks needing it report unknown) like other
// cluster-scoped kinds.
func TestStorageClassIsWatchedFromItsRegistryEntry(t *testing.T) {
	objs := []runtime.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "fintech-prod"}},
		&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "encrypted-gp3"}, Provisioner: "ebs.csi.aws.com",
			Parameters: map[string]string{"encrypted": "true"}},
	}
	for _, tt := range []struct {
		name   string
		denied []string
	}{{"allowed", nil}, {"not allowed", []string{"storageclasses"}}} {
		t.Run(tt.name, func(t *testing.T) {
			s, ch := startFake(t, fake.NewClientset(objs...), DefaultChecksInterval, tt.denied...)
			snap := waitFor(t, ch, "a synced snapshot", func(s estate.Snapshot) bool { return s.Synced })
			inv := s.Inventory()
			var status estate.ResourceStatus
			for _, r := range snap.Resources {
				if r.Resource == checks.ResStorageClasses {
					status = r
				}
			}
			if tt.denied == nil {
				if len(inv.StorageClasses) != 1 || inv.StorageClasses[0].Parameters["encrypted"] != "true" {
					t.Errorf("inventory StorageClasses = %v, want encrypted-gp3", inv.StorageClasses)
				}
				if status.Resource == "" || status.Access == estate.AccessDenied {
					t.Errorf("storageclasses status = %+v, want watched", status)
				}
				return
			}
			if len(inv.StorageClasses) != 0 || inv.Forbidden[checks.ResStorageClasses] == "" {
				t.Errorf("StorageClasses = %v, Forbidden = %v: want none listed and storageclasses forbidden", inv.StorageClasses, inv.Forbidden)
			}
			if status.Access != estate.AccessDenied || len(status.Namespaces) != 0 || !hasString(snap.Problems, "no access to "+checks.ResStorageClasses) {
				t.Errorf("storageclasses status = %+v, problems %q: want no access cluster-wide", status, snap.Problems)
			}
			// A check that needs StorageClasses reports unknown, not pass.
			c := checks.Check{ID: "needs-storage", Needs: []string{checks.ResStorageClasses},
				Eval: func(*checks.Inventory) []checks.Finding { return []checks.Finding{{Status: checks.Pass}} }}
			if fs := checks.Evaluate(c, &inv); len(fs) != 1 || fs[0].Status != checks.Unknown {
				t.Errorf("a check needing storageclasses reported %+v, want unknown", fs)
			}
		})
	}
}

func hasString(ss []string, want string) bool {
	for _, s := range ss {
		if s == want {
			return true
		}
	}
	return false
}
