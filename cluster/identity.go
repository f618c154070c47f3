package cluster

import (
	"context"
	"fmt"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Identity is who the API server says the caller is, and which Kubernetes it runs.
type Identity struct {
	// User, UID and Groups come from an authentication.k8s.io/v1 SelfSubjectReview.
	User   string
	UID    string
	Groups []string
	// KubernetesVersion is the API server's git version.
	KubernetesVersion string
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
