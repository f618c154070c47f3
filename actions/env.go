package actions

import (
	"context"
	"fmt"
	"sync"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/vigil-k8s/vigil/cluster"
)

// Env is what actions need of one kube context: its clients and the policy that guards it.
// Build one per context (a context switch builds a new one).
type Env struct {
	// Context is the kube context's name, part of every confirmation string.
	Context string
	// Server is the API server URL, recorded in the audit log.
	Server string
	// Kube and Dynamic talk to the context's API server.
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
	// Unimpersonated talks to it with the same credentials without impersonation, when Kube
	// impersonates (--as): User then names who acted as well as whom they acted as. Nil
	// otherwise.
	Unimpersonated kubernetes.Interface

	// Policy guards the context: the command line resolves it once (cmd.resolvePolicy), for
	// the UI, the headless commands and the fleet alike.
	Policy

	// Alertmanager is used by the silence actions; Argo by the Argo CD actions in server mode.
	Alertmanager *AlertmanagerClient
	Argo         *ArgoServerClient

	mu      sync.Mutex
	user    string
	reviews cluster.AccessReviews // the RBAC guard's answers
}

// User returns the kube user as the API server sees it (authentication.k8s.io/v1
// SelfSubjectReview), cached. It is what the audit log and Argo CD's initiatedBy record.
// Impersonating, it is "admin as scoped": the server authorizes as scoped, and the record
// says who that was (the API server's own audit log keeps both likewise).
func (e *Env) User(ctx context.Context) (string, error) {
	e.mu.Lock()
	u := e.user
	e.mu.Unlock()
	if u != "" {
		return u, nil
	}
	u, err := whoAmI(ctx, e.Kube)
	if err != nil {
		return "", fmt.Errorf("who am I (SelfSubjectReview) on %s: %w", e.Context, err)
	}
	if e.Unimpersonated != nil {
		behind, err := whoAmI(ctx, e.Unimpersonated)
		if err != nil {
			return "", fmt.Errorf("who acts as %s (SelfSubjectReview without impersonation) on %s: %w", u, e.Context, err)
		}
		u = behind + " as " + u
	}
	e.mu.Lock()
	e.user = u
	e.mu.Unlock()
	return u, nil
}

func whoAmI(ctx context.Context, kube kubernetes.Interface) (string, error) {
	r, err := kube.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return "", err
	}
	return r.Status.UserInfo.Username, nil
}

// Policy is the safety policy of one kube context, resolved once from the flags, the
// environment, the user's config and the system-wide config, which only tightens. The
// pipeline applies it the same way whoever asks.
type Policy struct {
	// ReadOnly disables every action ("read-only mode").
	ReadOnly bool
	// Protected makes every target of the context confirmed by typing it, like a namespace
	// labelled environment=production; ProtectedWhy says which setting decided.
	Protected    bool
	ProtectedWhy string
	// RequireReason makes a reason mandatory for every action; protected targets always
	// require one when RequireReasonProtected is set.
	RequireReason          bool
	RequireReasonProtected bool
}

// contextProtected reports whether the whole context is protected by the policy, and why.
func (e *Env) contextProtected() (bool, string) {
	if !e.Protected {
		return false, ""
	}
	if e.ProtectedWhy != "" {
		return true, e.ProtectedWhy
	}
	return true, fmt.Sprintf("context %s is protected", e.Context)
}

// ForgetPermissions drops cached RBAC answers (after a role binding changes).
func (e *Env) ForgetPermissions() {
	e.reviews.Forget()
}
