package cluster

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/url"
	"strings"
	"syscall"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
)

// Explain turns an API or network error into a short reason a person can act
// on, e.g. "connection refused" or "unauthorized: credentials rejected".
func Explain(err error) string {
	if err == nil {
		return ""
	}
	// A proxy (--proxy-url, the kubeconfig's proxy-url, HTTPS_PROXY) that could not be
	// reached is named: its "connection refused" is not the API server's.
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "proxyconnect" {
		proxy := "proxy"
		var dial *net.OpError
		if errors.As(opErr.Err, &dial) && dial.Addr != nil {
			proxy += " " + dial.Addr.String()
		}
		return proxy + ": " + Explain(opErr.Err)
	}
	var (
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalidCert x509.CertificateInvalidError
		dnsErr      *net.DNSError
		netErr      net.Error
	)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "host unreachable"
	case errors.As(err, &dnsErr):
		return "unknown host " + dnsErr.Name
	case errors.As(err, &unknownAuth):
		return "TLS: server certificate signed by an unknown authority"
	case errors.As(err, &hostErr):
		return "TLS: " + hostErr.Error()
	case errors.As(err, &invalidCert):
		return "TLS: " + invalidCert.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case apierrors.IsUnauthorized(err):
		return "unauthorized: the API server rejected the credentials"
	case apierrors.IsForbidden(err):
		return "forbidden"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timed out"
	}
	msg := err.Error()
	var uerr *url.Error
	if errors.As(err, &uerr) {
		msg = uerr.Err.Error()
	}
	if i := strings.LastIndex(msg, ": "); i >= 0 && len(msg) > 80 {
		msg = msg[i+2:]
	}
	return msg
}

// withCredentialsHint is err, refused by the API server, with why when the connection
// carries no credentials at all (a context whose user the kubeconfig does not define): the
// server took the requests for system:anonymous, and its refusal alone ("discovery:
// forbidden: unknown") does not say that.
func withCredentialsHint(cfg *rest.Config, err error) error {
	if !apierrors.IsForbidden(err) && !apierrors.IsUnauthorized(err) || hasCredentials(cfg) {
		return err
	}
	return &hinted{err: err, hint: "the connection has no credentials (no client certificate, token, username, exec plugin or auth provider: is the context's user defined in the kubeconfig?), so the API server took it for system:anonymous"}
}

// hasCredentials reports whether cfg authenticates its requests somehow.
func hasCredentials(cfg *rest.Config) bool {
	t := cfg.TLSClientConfig
	return cfg.BearerToken != "" || cfg.BearerTokenFile != "" || cfg.Username != "" || cfg.Password != "" ||
		cfg.ExecProvider != nil || cfg.AuthProvider != nil || len(t.CertData) > 0 || t.CertFile != "" || len(t.KeyData) > 0 || t.KeyFile != ""
}

// hinted is an error said as msg (else as itself), with a hint after; errors.Is and As
// see the error.
type hinted struct {
	err       error
	msg, hint string
}

func (h *hinted) Error() string {
	s := h.msg
	if s == "" {
		s = h.err.Error()
	}
	if h.hint != "" {
		s += "; " + h.hint
	}
	return s
}

func (h *hinted) Unwrap() error { return h.err }
