package cluster

import (
	"context"
	"fmt"
	"slices"
	"strings"

	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// CredentialsWriteWarning is what the header says when vigil runs read-only on credentials
// that could write: the guarantee then comes from vigil alone, not from RBAC.
const CredentialsWriteWarning = "credentials allow writes; read-only enforced by vigil"

// CredentialsUnknownWarning is what the header says when vigil runs read-only on credentials
// it cannot prove read-only (an incomplete or failed rules review): again the guarantee comes
// from vigil alone.
const CredentialsUnknownWarning = "credentials: cannot tell whether they can write; read-only enforced by vigil"

// WriteVerbs are the verbs that change something. impersonate, escalate and bind change
// nothing themselves but are write power: impersonating another user borrows that user's
// writes, escalate and bind grant permissions the caller does not have.
var WriteVerbs = []string{"create", "update", "patch", "delete", "deletecollection", "impersonate", "escalate", "bind"}

// nonResourceWriteVerbs are the verbs of non-resource URLs that are not reads.
var nonResourceWriteVerbs = []string{"*", "post", "put", "patch", "delete"}

// selfReviewResources are the creates every authenticated user has (system:basic-user) that
// only ask the API server about the caller and persist nothing: they are not writes.
var selfReviewResources = map[string]string{
	"selfsubjectaccessreviews": "authorization.k8s.io",
	"selfsubjectrulesreviews":  "authorization.k8s.io",
	"selfsubjectreviews":       "authentication.k8s.io",
}

// WriteVerdict is what can be said of the credentials' power to write.
type WriteVerdict string

const (
	// CanWrite: some rule grants a write verb (or impersonate, escalate, bind).
	CanWrite WriteVerdict = "can write"
	// CannotWrite: every review answered, completely, and no rule grants a write.
	CannotWrite WriteVerdict = "cannot write"
	// CannotTell: a review failed, or the API server said its rule list is incomplete (an
	// authorizer other than RBAC, such as the webhooks of GKE and EKS, may grant more).
	CannotTell WriteVerdict = "cannot tell"
)

// WriteAccess says whether the current credentials may change anything in the watched
// namespaces, as the API server's SelfSubjectRulesReview lists them.
type WriteAccess struct {
	// Checked is true once a review answered for at least one namespace.
	Checked bool
	// CanWrite is true when some rule grants a write verb on some resource.
	CanWrite bool
	// Evidence names the first such rule, e.g. `patch deployments.apps in fintech-prod`.
	Evidence string
	// Incomplete is true when the API server said its rule list may be incomplete (an
	// authorizer other than RBAC, e.g. a webhook, is in the chain).
	Incomplete bool
	// IncompleteWhy is the review's evaluationError, with the namespace, when it gave one.
	IncompleteWhy string
	// Namespaces are the namespaces reviewed.
	Namespaces []string
	// Err says why a namespace could not be reviewed; empty when all could.
	Err string
}

// Verdict is the tri-state answer with the reason a reviewer can check: the granting rule,
// what made the review inconclusive, or which namespaces were reviewed. "Cannot write" is
// only said when every review answered and none was incomplete.
func (w WriteAccess) Verdict() (WriteVerdict, string) {
	switch {
	case w.CanWrite:
		return CanWrite, w.Evidence
	case !w.Checked && w.Err == "":
		return CannotTell, "no namespace was reviewed"
	case !w.Checked:
		return CannotTell, "the rules review failed: " + w.Err
	case w.Incomplete:
		why := "the API server's rules review is incomplete: an authorizer other than RBAC (a webhook, as on GKE or EKS, or the Node authorizer) " +
			"may grant writes that the review cannot list; no listed rule grants one"
		if w.IncompleteWhy != "" {
			why += " (" + w.IncompleteWhy + ")"
		}
		return CannotTell, why
	case w.Err != "":
		return CannotTell, "some namespaces could not be reviewed: " + w.Err
	}
	return CannotWrite, "no rule in the rules review of " + strings.Join(w.Namespaces, ", ") + " grants " + strings.Join(WriteVerbs, ", ")
}

// Warning is the header's line for read-only mode: CredentialsWriteWarning when the
// credentials can write, CredentialsUnknownWarning when it cannot be told, else "".
func (w WriteAccess) Warning(readOnly bool) string {
	if !readOnly {
		return ""
	}
	switch v, _ := w.Verdict(); v {
	case CanWrite:
		return CredentialsWriteWarning
	case CannotTell:
		return CredentialsUnknownWarning
	}
	return ""
}

// RuleAllowsWrite reports whether a resource rule grants a write verb on any resource other
// than the self reviews, and names it ("patch deployments.apps").
func RuleAllowsWrite(r authzv1.ResourceRule) (bool, string) {
	verb := ""
	for _, v := range r.Verbs {
		if v == "*" || slices.Contains(WriteVerbs, v) {
			verb = v
			break
		}
	}
	if verb == "" {
		return false, ""
	}
	for _, res := range r.Resources {
		if g, ok := selfReviewResources[res]; ok && groupsCover(r.APIGroups, g) && onlyCreate(r.Verbs) {
			continue
		}
		group := ""
		if len(r.APIGroups) > 0 && r.APIGroups[0] != "" {
			group = "." + r.APIGroups[0]
		}
		return true, verb + " " + res + group
	}
	return false, ""
}

func groupsCover(groups []string, g string) bool {
	return slices.Contains(groups, g) || slices.Contains(groups, "*")
}

// onlyCreate reports whether the write verbs of a rule are create alone (what
// system:basic-user grants on the self reviews).
func onlyCreate(verbs []string) bool {
	for _, v := range verbs {
		if v == "*" || (v != "create" && slices.Contains(WriteVerbs, v)) {
			return false
		}
	}
	return true
}

// RulesAllowWrites reports whether any rule grants a write, with the first such rule.
func RulesAllowWrites(rules []authzv1.ResourceRule) (bool, string) {
	for _, r := range rules {
		if ok, what := RuleAllowsWrite(r); ok {
			return true, what
		}
	}
	return false, ""
}

// NonResourceRulesAllowWrites reports whether a non-resource rule grants a verb other than
// get, head or options on some URL, and names it ("post /some/path").
func NonResourceRulesAllowWrites(rules []authzv1.NonResourceRule) (bool, string) {
	for _, r := range rules {
		for _, v := range r.Verbs {
			if slices.Contains(nonResourceWriteVerbs, strings.ToLower(v)) && len(r.NonResourceURLs) > 0 {
				return true, v + " " + r.NonResourceURLs[0]
			}
		}
	}
	return false, ""
}

// CheckWrites asks the API server (one SelfSubjectRulesReview per namespace; a create that
// the read-only transport lets through because it persists nothing) whether the credentials
// behind kube may write in any of namespaces. It stops at the first namespace that grants a
// write; Verdict turns the result into can write / cannot write / cannot tell.
func CheckWrites(ctx context.Context, kube kubernetes.Interface, namespaces []string) WriteAccess {
	var w WriteAccess
	var errs []string
	for _, ns := range namespaces {
		rev, err := kube.AuthorizationV1().SelfSubjectRulesReviews().Create(ctx,
			&authzv1.SelfSubjectRulesReview{Spec: authzv1.SelfSubjectRulesReviewSpec{Namespace: ns}}, metav1.CreateOptions{})
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %s", ns, Explain(err)))
			continue
		}
		w.Checked = true
		w.Namespaces = append(w.Namespaces, ns)
		if rev.Status.Incomplete {
			w.Incomplete = true
			if w.IncompleteWhy == "" && rev.Status.EvaluationError != "" {
				w.IncompleteWhy = ns + ": " + rev.Status.EvaluationError
			}
		}
		if ok, what := RulesAllowWrites(rev.Status.ResourceRules); ok {
			w.CanWrite, w.Evidence = true, what+" in "+ns
			return w
		}
		if ok, what := NonResourceRulesAllowWrites(rev.Status.NonResourceRules); ok {
			w.CanWrite, w.Evidence = true, what
			return w
		}
	}
	w.Err = strings.Join(errs, "; ")
	return w
}

// Writes reviews the session's credentials in its watched namespaces (CheckWrites). Call it
// after Start, from a goroutine: it makes one request per namespace.
func (s *Session) Writes(ctx context.Context) WriteAccess {
	ns := s.watchedNames()
	if len(ns) == 0 {
		ns = s.opts.Namespaces
	}
	return CheckWrites(ctx, s.client, ns)
}
