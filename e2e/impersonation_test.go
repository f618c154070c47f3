package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	authnv1 "k8s.io/api/authentication/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestAuditNamesWhoActedBehindAs: `vigil scale --as e2e-actor` (a user bound to edit in the
// test's namespace) scales the Deployment as e2e-actor, and every record of the attempt in the
// audit log names the kubeconfig's own user too, "<user> as e2e-actor": the record said only
// e2e-actor, so whoever held the admin credentials was not in the journal. The user behind is
// what the API server answers the test's admin client (SelfSubjectReview), the scale what the
// Deployment says afterwards.
func TestAuditNamesWhoActedBehindAs(t *testing.T) {
	ns := lc.Namespace(t, "local-1")
	createControlDeployment(t, ns)
	cs := lc.Client(t, "local-1")
	ctx := context.Background()
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "e2e-actor-edit", Namespace: ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "e2e-actor"}}}
	if _, err := cs.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ssr, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := ssr.Status.UserInfo.Username + " as e2e-actor"

	state := t.TempDir()
	out, err := headless([]string{"KUBECONFIG=" + lc.Kubeconfig, "XDG_STATE_HOME=" + state},
		"scale", "deploy/ro-control", "--replicas", "2", "-n", ns, "--context", "local-1", "--as", "e2e-actor",
		"--reason", "impersonation test", "--confirm", "local-1/"+ns+"/ro-control", "--timeout", "60s")
	if err != nil {
		t.Fatalf("vigil scale --as e2e-actor: %v\n%s", err, out)
	}
	d, err := cs.AppsV1().Deployments(ns).Get(ctx, "ro-control", metav1.GetOptions{})
	if err != nil || d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Fatalf("the Deployment after the scale: %v %v; want 2 replicas", d.Spec.Replicas, err)
	}
	f, err := os.Open(filepath.Join(state, "vigil", "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); n++ {
		var r struct{ Phase, User, Result string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		if r.User != want {
			t.Errorf("audit record %s/%s: user %q, want %q", r.Phase, r.Result, r.User, want)
		}
	}
	if n == 0 {
		t.Fatal("the audit log holds no record of the scale")
	}
	t.Logf("%d records, each by %q", n, want)
}
