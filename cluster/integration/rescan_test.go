package integration

import (
	"context"
	"slices"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/internal/clustertest"
)

var (
	crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	appGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}
	sealed = schema.GroupVersionResource{Group: "bitnami.com", Version: "v1alpha1", Resource: "sealedsecrets"}
)

func fastRescan(o *cluster.Options) { o.Rescan = 300 * time.Millisecond }

func dynClient(t *testing.T, contextName string) dynamic.Interface {
	t.Helper()
	cfg, err := lc.RESTConfig(contextName)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return dc
}

// TestCRDInstalledAndRemovedWhileWatching (issue 14): local-2 has no Argo CD. A session
// started there says Applications are not installed; once the test installs the
// Application CRD (local-1's, copied) and creates an Application, the same session — no
// restart, no switch — lists exactly the Applications the API lists; once the CRD is
// deleted, they are gone and the kind reads "not installed" again.
func TestCRDInstalledAndRemovedWhileWatching(t *testing.T) {
	ctx := context.Background()
	d1, d2 := dynClient(t, "local-1"), dynClient(t, "local-2")
	crd, err := d1.Resource(crdGVR).Get(ctx, "applications.argoproj.io", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = d2.Resource(crdGVR).Get(ctx, crd.GetName(), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("local-2 already has the Application CRD (err %v): the test needs it absent", err)
	}
	s := start(t, "local-2", fastRescan)
	waitSnap(t, s, 90*time.Second, "Applications not installed", func(s estate.Snapshot) bool {
		return s.Synced && resource(s, "applications.argoproj.io").Access == estate.AccessNotInstalled
	})

	copyCRD := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": crd.GetName()}, "spec": crd.Object["spec"]}}
	if _, err = d2.Resource(crdGVR).Create(ctx, copyCRD, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deleted := false
	t.Cleanup(func() {
		if !deleted {
			_ = d2.Resource(crdGVR).Delete(context.Background(), crd.GetName(), metav1.DeleteOptions{})
		}
	})
	app := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"namespace": "fintech-prod", "name": "late-app"},
		"spec": map[string]any{"project": "default", "source": map[string]any{"repoURL": "https://git.example/late", "path": "prod"},
			"destination": map[string]any{"server": "https://kubernetes.default.svc", "namespace": "fintech-prod"}}}}
	err = clustertest.Eventually(60*time.Second, 200*time.Millisecond, func() (bool, error) {
		_, cerr := d2.Resource(appGVR).Namespace("fintech-prod").Create(ctx, app, metav1.CreateOptions{})
		return cerr == nil, nil // the new kind is served once the CRD is established
	})
	if err != nil {
		t.Fatalf("creating an Application on local-2: %v", err)
	}
	truth := func() []string {
		l, lerr := d2.Resource(appGVR).List(ctx, metav1.ListOptions{})
		if lerr != nil {
			t.Fatal(lerr)
		}
		var names []string
		for _, a := range l.Items {
			names = append(names, a.GetNamespace()+"/"+a.GetName())
		}
		slices.Sort(names)
		return names
	}
	want := truth()
	shown := func(s estate.Snapshot) []string {
		var names []string
		for _, a := range s.ArgoApps {
			names = append(names, a.Namespace+"/"+a.Name)
		}
		slices.Sort(names)
		return names
	}
	begun := time.Now()
	snap := waitSnap(t, s, 30*time.Second, "the new Application", func(s estate.Snapshot) bool {
		return s.Installed["argoproj.io"] && resource(s, "applications.argoproj.io").Access == estate.AccessWatched && slices.Equal(shown(s), want)
	})
	t.Logf("CRD installed → Application shown in %s (%v)", time.Since(begun).Round(time.Millisecond), shown(snap))

	if err = d2.Resource(crdGVR).Delete(ctx, crd.GetName(), metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	deleted = true
	waitSnap(t, s, 60*time.Second, "Applications gone and not installed", func(s estate.Snapshot) bool {
		return !s.Installed["argoproj.io"] && resource(s, "applications.argoproj.io").Access == estate.AccessNotInstalled && len(s.ArgoApps) == 0
	})
	// The CRD's deletion completes (its objects removed) before the next test.
	err = clustertest.Eventually(60*time.Second, 200*time.Millisecond, func() (bool, error) {
		_, gerr := d2.Resource(crdGVR).Get(ctx, crd.GetName(), metav1.GetOptions{})
		return apierrors.IsNotFound(gerr), nil
	})
	if err != nil {
		t.Fatalf("the CRD was not deleted: %v", err)
	}
}

// TestRefusedKindRecoversWhenGranted (issue 14): the reviewer may not list SealedSecrets;
// a session as the reviewer says so. When an admin grants it (a ClusterRole and binding),
// the same session watches them within its backoff, showing the SealedSecrets the API
// lists to the reviewer; the refusal is gone from the snapshot.
func TestRefusedKindRecoversWhenGranted(t *testing.T) {
	ctx := context.Background()
	if _, err := dynClient(t, "local-1-reviewer").Resource(sealed).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("the reviewer's list of sealedsecrets: %v, want forbidden (nothing to recover from)", err)
	}
	s := start(t, "local-1-reviewer", fastRescan)
	waitSnap(t, s, 90*time.Second, "sealedsecrets refused", func(s estate.Snapshot) bool {
		return s.Synced && resource(s, "sealedsecrets.bitnami.com").Access == estate.AccessDenied
	})

	admin := lc.Client(t, "local-1")
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "e2e-read-sealedsecrets"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"bitnami.com"}, Resources: []string{"sealedsecrets"}, Verbs: []string{"get", "list", "watch"}}}}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "e2e-read-sealedsecrets"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: "reviewer"}}}
	if _, err := admin.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = admin.RbacV1().ClusterRoles().Delete(context.Background(), role.Name, metav1.DeleteOptions{})
	})
	if _, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = admin.RbacV1().ClusterRoleBindings().Delete(context.Background(), binding.Name, metav1.DeleteOptions{})
	})
	granted := time.Now()

	// The truth, as the reviewer now reads it with client-go, in the watched namespaces.
	var want []string
	err := clustertest.Eventually(30*time.Second, 200*time.Millisecond, func() (bool, error) {
		l, lerr := dynClient(t, "local-1-reviewer").Resource(sealed).List(ctx, metav1.ListOptions{})
		if lerr != nil {
			return false, nil // RBAC caches catch up
		}
		want = want[:0]
		for _, o := range l.Items {
			if slices.Contains(config.DefaultNamespaces, o.GetNamespace()) {
				want = append(want, o.GetNamespace()+"/"+o.GetName())
			}
		}
		return true, nil
	})
	if err != nil || len(want) == 0 {
		t.Fatalf("the reviewer cannot list sealedsecrets after the grant, or there are none (%v): %v", want, err)
	}
	slices.Sort(want)
	snap := waitSnap(t, s, 30*time.Second, "sealedsecrets watched after the grant", func(s estate.Snapshot) bool {
		var got []string
		for _, o := range s.SealedSecrets {
			got = append(got, o.Namespace+"/"+o.Name)
		}
		slices.Sort(got)
		return resource(s, "sealedsecrets.bitnami.com").Access == estate.AccessWatched && slices.Equal(got, want)
	})
	t.Logf("grant → watched in %s: %d sealed secrets", time.Since(granted).Round(time.Millisecond), len(snap.SealedSecrets))
	if hasProblem(snap, "sealedsecrets") {
		t.Errorf("the refusal is still among the problems: %q", snap.Problems)
	}
}
