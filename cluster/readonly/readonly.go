// Package readonly enforces vigil's read-only mode at the HTTP transport, below the UI and the
// action pipeline: a request that could change anything never leaves the process.
//
// k9s's read-only mode lived in its UI and leaked three times (drain/cordon, edit/delete from
// XRay, rollback from the ReplicaSet view). Here the Kubernetes client, and the Prometheus,
// Alertmanager and Argo CD clients, are built on a transport that refuses every method but
// GET, HEAD and OPTIONS, with the one exception of the self-review creates that only ask the
// API server about the caller (SelfSubjectAccessReview, SelfSubjectRulesReview,
// SelfSubjectReview), which change nothing.
package readonly

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	"k8s.io/client-go/rest"
)

// ErrReadOnly is returned (wrapped) for every refused request.
var ErrReadOnly = errors.New("read-only mode")

// selfReviews are the only non-GET Kubernetes paths allowed: each asks about the caller and
// persists nothing.
var selfReviews = []string{
	"/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
	"/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
	"/apis/authentication.k8s.io/v1/selfsubjectreviews",
	"/apis/authentication.k8s.io/v1beta1/selfsubjectreviews",
}

// Transport refuses writes before they reach the network.
type Transport struct {
	// Base does the real work for allowed requests.
	Base http.RoundTripper
	// AllowSelfReviews permits the Kubernetes self-review creates (only for API server clients).
	AllowSelfReviews bool
	// PathPrefix is the path of the API server URL (rest.Config.Host), e.g. /k8s/clusters/c-1
	// behind a Rancher-style proxy: the self reviews are allowed at exactly PathPrefix plus
	// their path, nowhere else. Empty for an API server at the root.
	PathPrefix string
	refused    atomic.Int64
}

// Refused counts the requests this transport has refused.
func (t *Transport) Refused() int64 { return t.refused.Load() }

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !allowed(req, t.AllowSelfReviews, t.PathPrefix) {
		t.refused.Add(1)
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, fmt.Errorf("%w: refused %s %s", ErrReadOnly, req.Method, req.URL.Path)
	}
	return t.Base.RoundTrip(req)
}

// WrappedRoundTripper returns Base, so that client-go's helpers that look
// through wrappers (closing idle connections, reading the TLS config) reach it.
func (t *Transport) WrappedRoundTripper() http.RoundTripper { return t.Base }

// Allowed says whether a request may pass in read-only mode, for an API server at the root of
// its host.
func Allowed(req *http.Request, allowSelfReviews bool) bool {
	return allowed(req, allowSelfReviews, "")
}

// allowed lets reads through, and a POST only to exactly prefix+a self-review path: not to a
// path that merely ends with one (a service or pod proxy, /api/v1/namespaces/x/services/y/proxy/
// apis/authorization.k8s.io/v1/selfsubjectaccessreviews, forwards the POST to a workload).
// The decoded and the escaped path must both match, so an encoded slash or dot segment
// cannot make a different request look like a self review.
func allowed(req *http.Request, allowSelfReviews bool, prefix string) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	case http.MethodPost:
		if !allowSelfReviews {
			return false
		}
		prefix = strings.TrimSuffix(prefix, "/")
		for _, p := range selfReviews {
			if req.URL.Path == prefix+p && req.URL.EscapedPath() == prefix+p {
				return true
			}
		}
	}
	return false
}

// WrapConfig returns a copy of cfg whose every client refuses writes at the transport. The
// wrapper is installed last, so it sits outermost, in front of auth and retries.
func WrapConfig(cfg *rest.Config) *rest.Config {
	out := rest.CopyConfig(cfg)
	prefix := ""
	if u, err := url.Parse(cfg.Host); err == nil && u.Host != "" {
		prefix = u.Path // "https://rancher/k8s/clusters/c-1" → /k8s/clusters/c-1
	}
	out.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return &Transport{Base: rt, AllowSelfReviews: true, PathPrefix: prefix}
	})
	return out
}

// WrapClient returns a copy of an HTTP client (Prometheus, Alertmanager, Argo CD server) that
// refuses every method but GET, HEAD and OPTIONS.
func WrapClient(c *http.Client) *http.Client {
	if c == nil {
		c = &http.Client{}
	}
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	out := *c
	out.Transport = &Transport{Base: base}
	return &out
}
