package cluster

import (
	"context"
	"errors"
	"testing"

	authzv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// TestAccessReviewsAsksOncePerQuestion: the one SelfSubjectAccessReview cache sends each
// question once (name and subresource are part of it), remembers denials as well as grants,
// and does not remember a failed review.
func TestAccessReviewsAsksOncePerQuestion(t *testing.T) {
	cs := fake.NewSimpleClientset()
	var asked []authzv1.ResourceAttributes
	fail := true
	cs.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authzv1.SelfSubjectAccessReview)
		asked = append(asked, *r.Spec.ResourceAttributes)
		if fail && r.Spec.ResourceAttributes.Verb == "delete" {
			return true, nil, errors.New("webhook timed out")
		}
		// Only patch of deployments/scale named api-gateway is allowed.
		ra := r.Spec.ResourceAttributes
		r.Status.Allowed = ra.Verb == "patch" && ra.Subresource == "scale" && ra.Name == "api-gateway"
		return true, r, nil
	})
	var c AccessReviews
	ctx := context.Background()
	scale := AccessQuery{Verb: "patch", Group: "apps", Resource: "deployments", Subresource: "scale", Namespace: "fintech-prod", Name: "api-gateway"}
	other := scale
	other.Name = "payment-service"
	whole := scale
	whole.Subresource = ""
	for range 3 {
		for q, want := range map[AccessQuery]bool{scale: true, other: false, whole: false} {
			if got, _, err := c.Review(ctx, cs, q); err != nil || got != want {
				t.Fatalf("%+v: %v, %v; want %v", q, got, err, want)
			}
		}
	}
	if len(asked) != 3 {
		t.Fatalf("%d reviews for 3 questions asked 3 times each: %+v", len(asked), asked)
	}
	del := AccessQuery{Verb: "delete", Resource: "pods", Namespace: "fintech-prod"}
	if _, _, err := c.Review(ctx, cs, del); err == nil {
		t.Fatal("a failed review answered")
	}
	fail = false
	if ok, _, err := c.Review(ctx, cs, del); err != nil || ok {
		t.Fatalf("after the failure: %v, %v", ok, err)
	}
	if len(asked) != 5 {
		t.Errorf("the failed review was remembered (%d reviews)", len(asked))
	}
	c.Forget()
	_, _, _ = c.Review(ctx, cs, scale)
	if len(asked) != 6 {
		t.Errorf("Forget kept the answers (%d reviews)", len(asked))
	}
}
