package actions

import (
	"context"
	"fmt"
	"slices"
	"sync"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
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

	// ReadOnly disables every action ("read-only mode").
	ReadOnly bool
	// ProtectedContexts are contexts whose every target is confirmed by typing it, like a
	// namespace labelled environment=production.
	ProtectedContexts []string
	// RequireReason makes a reason mandatory for every action; protected targets always
	// require one when RequireReasonProtected is set.
	RequireReason          bool
	RequireReasonProtected bool

	// Alertmanager is used by the silence actions; Argo by the Argo CD actions in server mode.
	Alertmanager *AlertmanagerClient
	Argo         *ArgoServerClient

	mu   sync.Mutex
	user string
	rbac map[Access]map[string]string // access → namespace/name → reason ("" allowed)
}

// User returns the kube user as the API server sees it (authentication.k8s.io/v1
// SelfSubjectReview), cached. It is what the audit log and Argo CD's initiatedBy record.
func (e *Env) User(ctx context.Context) (string, error) {
	e.mu.Lock()
	u := e.user
	e.mu.Unlock()
	if u != "" {
		return u, nil
	}
	r, err := e.Kube.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("who am I (SelfSubjectReview) on %s: %w", e.Context, err)
	}
	u = r.Status.UserInfo.Username
	e.mu.Lock()
	e.user = u
	e.mu.Unlock()
	return u, nil
}

// contextProtected reports whether the whole context is protected by configuration.
func (e *Env) contextProtected() bool {
	return slices.Contains(e.ProtectedContexts, e.Context)
}

// ForgetPermissions drops cached RBAC answers (after a role binding changes).
func (e *Env) ForgetPermissions() {
	e.mu.Lock()
	e.rbac = nil
	e.mu.Unlock()
}
