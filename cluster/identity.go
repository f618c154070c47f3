package cluster

import (
	"context"
	"fmt"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Identity is who the API server says the caller is, and which Kubernetes it runs.
type Identity struct {
	// User, UID and Groups come from an authentication.k8s.io/v1 SelfSubjectReview.
	User   string
	UID    string
	Groups []string
	// KubernetesVersion is the API server's git version.
	KubernetesVersion string
	// Behind is, when the caller impersonates User (--as), who its own credentials
	// authenticate as: the one acting. "" when it impersonates nobody.
	Behind string
}

// Acting names who acts: User, or "Behind as User" when the caller impersonates.
func (id Identity) Acting() string {
	if id.Behind != "" {
		return id.Behind + " as " + id.User
	}
	return id.User
}

// Unimpersonated is cfg without its impersonation (--as, --as-group, a kubeconfig user's
// as:), its credentials' own; nil when cfg impersonates nobody.
func Unimpersonated(cfg *rest.Config) *rest.Config {
	if cfg.Impersonate.UserName == "" && cfg.Impersonate.UID == "" && len(cfg.Impersonate.Groups) == 0 && len(cfg.Impersonate.Extra) == 0 {
		return nil
	}
	own := rest.CopyConfig(cfg)
	own.Impersonate = rest.ImpersonationConfig{}
	return own
}

// ReviewIdentityOf is ReviewIdentity of a client of cfg, with Behind when cfg impersonates.
func ReviewIdentityOf(ctx context.Context, cfg *rest.Config) (Identity, error) {
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return Identity{}, err
	}
	id, err := ReviewIdentity(ctx, kube)
	if err != nil {
		return id, err
	}
	if own := Unimpersonated(cfg); own != nil {
		ownKube, err := kubernetes.NewForConfig(own)
		if err != nil {
			return id, err
		}
		r, err := ownKube.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err != nil {
			return id, fmt.Errorf("who acts as %s (SelfSubjectReview without impersonation): %s", id.User, Explain(err))
		}
		id.Behind = r.Status.UserInfo.Username
	}
	return id, nil
}

// ReviewIdentity asks the API server who the caller is (SelfSubjectReview, a create that
// persists nothing and that the read-only transport allows) and its version.
func ReviewIdentity(ctx context.Context, kube kubernetes.Interface) (Identity, error) {
	var id Identity
	r, err := kube.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return id, fmt.Errorf("who am I (SelfSubjectReview): %s", Explain(err))
	}
	id.User, id.UID, id.Groups = r.Status.UserInfo.Username, r.Status.UserInfo.UID, r.Status.UserInfo.Groups
	v, err := kube.Discovery().ServerVersion()
	if err != nil {
		return id, fmt.Errorf("server version: %s", Explain(err))
	}
	id.KubernetesVersion = v.GitVersion
	return id, nil
}
