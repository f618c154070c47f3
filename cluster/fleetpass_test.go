package cluster

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"testing"

	"k8s.io/client-go/rest"
)

// TestPassHTTPClientSpeaksAsClientGo: the fleet pass's own client speaks
// HTTP/2 to a TLS server that offers it, as client-go's does, and HTTP/1.1
// when DISABLE_HTTP2 is set or the config's NextProtos leave h2 out (what
// client-go honours, for proxies that break HTTP/2).
func TestPassHTTPClientSpeaksAsClientGo(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Proto", r.Proto)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	proto := func(cfg *rest.Config) string {
		t.Helper()
		hc, err := passHTTPClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		hc.CloseIdleConnections()
		return resp.Header.Get("X-Proto")
	}
	cfg := &rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{CAData: ca}}
	if got := proto(cfg); got != "HTTP/2.0" {
		t.Errorf("default: the server saw %s, want HTTP/2.0", got)
	}
	h1 := rest.CopyConfig(cfg)
	h1.NextProtos = []string{"http/1.1"}
	if got := proto(h1); got != "HTTP/1.1" {
		t.Errorf("NextProtos http/1.1: the server saw %s, want HTTP/1.1", got)
	}
	t.Setenv("DISABLE_HTTP2", "1")
	if got := proto(cfg); got != "HTTP/1.1" {
		t.Errorf("DISABLE_HTTP2 set: the server saw %s, want HTTP/1.1", got)
	}
}
