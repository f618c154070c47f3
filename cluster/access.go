package cluster

import (
	"context"
	"slices"
	"sync"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// accessCache remembers access answers for a session: SelfSubjectAccessReview
// results (AccessReviews), and per namespace the SelfSubjectRulesReview that
// answers most list/watch questions of that namespace in one request.
type accessCache struct {
	reviews AccessReviews
	mu      sync.Mutex
	rules   map[string]*nsRules // namespace → its rules review
}

// AccessQuery is one question for a SelfSubjectAccessReview: may the caller do Verb on
// Resource (plural; Subresource when set) of Group, in Namespace ("" = all namespaces or
// cluster-scoped), on the object Name ("" = any)?
type AccessQuery struct {
	Verb, Group, Resource, Subresource, Namespace, Name string
}

// AccessReviews is vigil's one SelfSubjectAccessReview cache: each question is asked of the
// API server once and its answer remembered; a failed review is not. A Session uses one
// before it starts an informer, the actions' RBAC guard one per kube context. The zero
// value is ready to use.
type AccessReviews struct {
	// Timeout bounds each review; 0 means DefaultRequestTimeout.
	Timeout time.Duration
	mu      sync.Mutex
	answers map[AccessQuery]accessAnswer
}

type accessAnswer struct {
	allowed bool
	reason  string
}

// Review answers q, from the cache or with a SelfSubjectAccessReview sent through client;
// reason is the authorizer's, when it gave one.
func (c *AccessReviews) Review(ctx context.Context, client kubernetes.Interface, q AccessQuery) (allowed bool, reason string, err error) {
	c.mu.Lock()
	a, ok := c.answers[q]
	c.mu.Unlock()
	if ok {
		return a.allowed, a.reason, nil
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: q.Namespace, Verb: q.Verb, Group: q.Group,
			Resource: q.Resource, Subresource: q.Subresource, Name: q.Name},
	}}
	res, err := client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
	if err != nil {
		return false, "", err
	}
	a = accessAnswer{allowed: res.Status.Allowed && !res.Status.Denied, reason: res.Status.Reason}
	c.remember(q, a)
	return a.allowed, a.reason, nil
}

// Forget drops every remembered answer (after a role binding changes).
func (c *AccessReviews) Forget() {
	c.mu.Lock()
	c.answers = nil
	c.mu.Unlock()
}

func (c *AccessReviews) remember(q AccessQuery, a accessAnswer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.answers == nil {
		c.answers = map[AccessQuery]accessAnswer{}
	}
	c.answers[q] = a
}

// nsRules is one namespace's SelfSubjectRulesReview, fetched once.
type nsRules struct {
	once  sync.Once
	rules []authorizationv1.ResourceRule
	// complete is true when the rules are the whole truth: the review
	// succeeded, is not marked incomplete and names at least one rule (a
	// real user always has the self-review rules of system:basic-user, so an
	// empty list means the authorizer said nothing useful).
	complete bool
}

func (c *accessCache) rulesOf(ns string) *nsRules {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rules == nil {
		c.rules = map[string]*nsRules{}
	}
	r := c.rules[ns]
	if r == nil {
		r = &nsRules{}
		c.rules[ns] = r
	}
	return r
}

// Allowed asks the API server (once per session; answers are cached)
// whether this user may verb resource (plural) of group in ns ("" = all
// namespaces or cluster-scoped). If the review itself fails, it answers
// yes: the watch error handler reports a refusal later.
func (s *Session) Allowed(ctx context.Context, verb, group, resource, ns string) bool {
	client := s.reviews
	if client == nil {
		client = s.client
	}
	ok, reason, err := s.access.reviews.Review(ctx, client, AccessQuery{Verb: verb, Group: group, Resource: resource, Namespace: ns})
	if err != nil {
		s.log.Warn("access review failed; assuming allowed", "namespace", ns, "resource", resource, "verb", verb, "err", err)
		return true
	}
	if !ok {
		s.log.Info("access denied", "namespace", ns, "resource", resource, "verb", verb, "reason", reason)
	}
	return ok
}

// allowed reports whether the user may list and watch r in ns. In a
// namespace it reads the namespace's rules review first (one request
// answers every resource); what the rules do not settle — an incomplete
// review (a webhook authorizer in the chain), a failed one, or the cluster
// scope — goes to SelfSubjectAccessReviews, list then watch.
func (s *Session) allowed(ctx context.Context, ns string, r resource) bool {
	if ns != "" {
		rules := s.rulesReview(ctx, ns)
		switch {
		case rulesAllow(rules.rules, "list", r.Group, r.Resource) && rulesAllow(rules.rules, "watch", r.Group, r.Resource):
			s.access.reviews.remember(AccessQuery{Verb: "list", Group: r.Group, Resource: r.Resource, Namespace: ns}, accessAnswer{allowed: true})
			s.access.reviews.remember(AccessQuery{Verb: "watch", Group: r.Group, Resource: r.Resource, Namespace: ns}, accessAnswer{allowed: true})
			return true
		case rules.complete:
			s.log.Info("access denied by rules review", "namespace", ns, "resource", r.Key())
			return false
		}
	}
	return s.Allowed(ctx, "list", r.Group, r.Resource, ns) && s.Allowed(ctx, "watch", r.Group, r.Resource, ns)
}

// rulesReview returns ns's SelfSubjectRulesReview, asking once per session.
func (s *Session) rulesReview(ctx context.Context, ns string) *nsRules {
	r := s.access.rulesOf(ns)
	r.once.Do(func() {
		client := s.reviews
		if client == nil {
			client = s.client
		}
		rctx, cancel := s.request(ctx)
		defer cancel()
		res, err := client.AuthorizationV1().SelfSubjectRulesReviews().Create(rctx,
			&authorizationv1.SelfSubjectRulesReview{Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: ns}}, metav1.CreateOptions{})
		if err != nil {
			s.log.Debug("rules review failed; using access reviews", "namespace", ns, "err", err)
			return
		}
		r.rules = res.Status.ResourceRules
		r.complete = !res.Status.Incomplete && res.Status.EvaluationError == "" && len(r.rules) > 0
	})
	return r
}

// rulesAllow reports whether some rule grants verb on every object of
// resource in group. Rules limited to resourceNames do not grant a list.
func rulesAllow(rules []authorizationv1.ResourceRule, verb, group, resource string) bool {
	for _, r := range rules {
		if len(r.ResourceNames) > 0 {
			continue
		}
		if covers(r.Verbs, verb) && covers(r.APIGroups, group) && covers(r.Resources, resource) {
			return true
		}
	}
	return false
}

func covers(list []string, v string) bool {
	return slices.Contains(list, v) || slices.Contains(list, "*")
}
