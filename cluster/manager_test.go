package cluster

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/vigil-k8s/vigil/cluster/readonly"
)

// TestManagerWrapsReadOnlyContexts: a context that is read-only gets the refusing transport
// even when the Manager was started for read-write contexts (a switch to a protected one).
func TestManagerWrapsReadOnlyContexts(t *testing.T) {
	var writes int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			writes++
		}
	}))
	defer srv.Close()
	m := &Manager{opts: ManagerOptions{ReadOnly: func(ctx string) bool { return strings.HasPrefix(ctx, "prod") }}}
	patch := func(ctx string) error {
		wrapConfig, _ := m.wrapsFor(ctx)
		cfg := &rest.Config{Host: srv.URL}
		if wrapConfig != nil {
			cfg = wrapConfig(cfg)
		}
		client, err := rest.HTTPClientFor(cfg)
		if err != nil {
			return err
		}
		req, _ := http.NewRequest(http.MethodPatch, srv.URL+"/apis/apps/v1/namespaces/x/deployments/y", nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := patch("prod-eu"); !errors.Is(err, readonly.ErrReadOnly) {
		t.Fatalf("prod-eu patch: %v, want refused", err)
	}
	if err := patch("staging"); err != nil {
		t.Fatalf("staging patch: %v", err)
	}
	if writes != 1 {
		t.Fatalf("server saw %d writes, want only staging's", writes)
	}
	_, wrapClient := m.wrapsFor("prod-eu")
	if _, err := wrapClient(nil).Post(srv.URL+"/api/v2/silences", "application/json", nil); !errors.Is(err, readonly.ErrReadOnly) {
		t.Fatalf("prod-eu alertmanager post: %v, want refused", err)
	}
}
