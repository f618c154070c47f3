package integration

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/cluster/readonly"
)

// TestCredentialsWriteVerdict asks the real API server, through the read-only transport as
// vigil does, about identities whose answer the test knows from the RBAC it creates: the
// admin can write; the view-only reviewer cannot; a service account whose only power is
// impersonate (or bind, or escalate) can, though it holds no write verb; and a node identity,
// whose rules the Node authorizer cannot list (the review comes back incomplete, as under the
// webhook authorizers of GKE and EKS), is "cannot tell", not "cannot write".
func TestCredentialsWriteVerdict(t *testing.T) {
	admin := lc.Client(t, "local-1")
	ns := lc.Namespace(t, "local-1")
	ctx := context.Background()
	powers := map[string]rbacv1.PolicyRule{
		"impersonator": {Verbs: []string{"impersonate"}, APIGroups: []string{""}, Resources: []string{"serviceaccounts"}},
		"binder":       {Verbs: []string{"bind"}, APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"roles"}},
		"escalator":    {Verbs: []string{"get", "escalate"}, APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"roles"}},
	}
	for name, rule := range powers {
		if _, err := admin.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name},
			Rules: []rbacv1.PolicyRule{rule, {Verbs: []string{"get", "list", "watch"}, APIGroups: []string{""}, Resources: []string{"pods"}}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: ns}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	as := func(user string, groups ...string) func(*rest.Config) {
		return func(c *rest.Config) { c.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups} }
	}
	cases := []struct {
		name, context string
		tune          func(*rest.Config)
		want          cluster.WriteVerdict
		reason        string
	}{
		{"admin", "local-1", nil, cluster.CanWrite, " in " + ns},
		{"view-only reviewer", "local-1-reviewer", nil, cluster.CannotWrite, "grants create, update, patch, delete, deletecollection, impersonate, escalate, bind"},
		{"impersonate only", "local-1", as("system:serviceaccount:" + ns + ":impersonator"), cluster.CanWrite, "impersonate serviceaccounts in " + ns},
		{"bind only", "local-1", as("system:serviceaccount:" + ns + ":binder"), cluster.CanWrite, "bind roles.rbac.authorization.k8s.io in " + ns},
		{"escalate only", "local-1", as("system:serviceaccount:" + ns + ":escalator"), cluster.CanWrite, "escalate roles.rbac.authorization.k8s.io in " + ns},
		{"node identity: incomplete review", "local-1", as("system:node:vigil-test", "system:nodes", "system:authenticated"), cluster.CannotTell, "incomplete"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := lc.RESTConfig(tc.context)
			if err != nil {
				t.Fatal(err)
			}
			if tc.tune != nil {
				tc.tune(cfg)
			}
			kube, err := kubernetes.NewForConfig(readonly.WrapConfig(cfg))
			if err != nil {
				t.Fatal(err)
			}
			w := cluster.CheckWrites(ctx, kube, []string{ns})
			got, why := w.Verdict()
			t.Logf("%s: %s (%s)", tc.name, got, why)
			if got != tc.want || !strings.Contains(why, tc.reason) {
				t.Errorf("verdict %q (%s), want %q with %q; review %+v", got, why, tc.want, tc.reason, w)
			}
		})
	}
}
