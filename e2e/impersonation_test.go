package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
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

// TestEvidenceNamesWhoCollectedBehindAs: `vigil attest` and `vigil audit export` with --as
// e2e-looker (bound to view in the test's namespace only) record who vouched and who
// collected as "<user> as e2e-looker" / impersonatedBy <user>, and the bundle's verdict on the
// credentials is the credentials' own: they write (the test's admin client is allowed to
// create Deployments there, asked by SelfSubjectAccessReview), whatever e2e-looker may do.
// The bundle said "cannot write" of admin credentials used with --as a viewer.
func TestEvidenceNamesWhoCollectedBehindAs(t *testing.T) {
	ns := lc.Namespace(t, "local-1")
	cs := lc.Client(t, "local-1")
	ctx := context.Background()
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "e2e-looker-view", Namespace: ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "e2e-looker"}}}
	if _, err := cs.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ssr, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	admin := ssr.Status.UserInfo.Username
	ssar, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authzv1.SelfSubjectAccessReview{Spec: authzv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authzv1.ResourceAttributes{Namespace: ns, Verb: "create", Group: "apps", Resource: "deployments"}}}, metav1.CreateOptions{})
	if err != nil || !ssar.Status.Allowed {
		t.Fatalf("precondition: the admin credentials may create Deployments in %s: %+v %v", ns, ssar.Status, err)
	}

	e := newAttestEnv(t)
	evidence := filepath.Join(e.home, "kms-config.txt")
	if err = os.WriteFile(evidence, []byte("EncryptionConfiguration: aescbc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	as := []string{"--context", "local-1", "-n", ns, "--as", "e2e-looker"}
	if out, errOut, code := e.vigil(append([]string{"attest", atRestCheck, "--file", evidence, "--expires", time.Now().UTC().AddDate(0, 1, 0).Format(time.DateOnly)}, as...)...); code != 0 {
		t.Fatalf("vigil attest --as e2e-looker: exit %d\n%s%s", code, out, errOut)
	}
	b, err := os.ReadFile(filepath.Join(e.state, "vigil", "attestations", "local-1", atRestCheck+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var att struct {
		KubeUser string `json:"kubeUser"`
	}
	if err = json.Unmarshal(b, &att); err != nil || att.KubeUser != admin+" as e2e-looker" {
		t.Errorf("attestation kubeUser %q (%v), want %q", att.KubeUser, err, admin+" as e2e-looker")
	}

	// The report says whose view it is.
	raw, err := clientcmd.LoadFromFile(lc.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	input := "Input: context local-1 (namespaces " + ns + ") by " + raw.Contexts["local-1"].AuthInfo + " as e2e-looker"
	if out, errOut, code := e.vigil(append([]string{"check", "-o", "markdown"}, as...)...); !strings.Contains(out, input) {
		t.Errorf("vigil check -o markdown --as e2e-looker (exit %d, %s): no %q in\n%.600s", code, errOut, input, out)
	}

	bundle := filepath.Join(e.home, "bundle")
	if out, errOut, code := e.vigil(append([]string{"audit", "export", "--out", bundle}, as...)...); code != 0 {
		t.Fatalf("vigil audit export --as e2e-looker: exit %d\n%s%s", code, out, errOut)
	}
	if b, err = os.ReadFile(filepath.Join(bundle, "identity.json")); err != nil {
		t.Fatal(err)
	}
	var id struct {
		User              string `json:"user"`
		ImpersonatedBy    string `json:"impersonatedBy"`
		CredentialsWrites string `json:"credentialsWrites"`
	}
	if err := json.Unmarshal(b, &id); err != nil {
		t.Fatal(err)
	}
	if id.User != "e2e-looker" || id.ImpersonatedBy != admin || id.CredentialsWrites != "can write" {
		t.Errorf("identity.json: user %q impersonatedBy %q credentialsWrites %q; want e2e-looker, %q, can write", id.User, id.ImpersonatedBy, id.CredentialsWrites, admin)
	}
}
