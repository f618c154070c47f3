package cluster

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// TestListInventoryDiscoveryHonoursTheDeadline: an API server that accepts and never answers
// is asked, and quoted in the error, with the caller's time limit (vigil check --timeout),
// not client-go's discovery default of 32 s.
func TestListInventoryDiscoveryHonoursTheDeadline(t *testing.T) {
	queries := make(chan string, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		queries <- r.URL.Path + "?" + r.URL.RawQuery
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := ListInventory(ctx, &rest.Config{Host: srv.URL}, []string{"fintech-prod"})
	if err == nil {
		t.Fatal("an API server that never answers: want an error")
	}
	// 2s, the time left rounded up to a second; 1s on a machine slow enough to take a
	// second getting there.
	if got := <-queries; got != "/api?timeout=2s" && got != "/api?timeout=1s" {
		t.Errorf("discovery asked %q, want /api?timeout=2s (the caller's deadline)", got)
	}
	if !strings.Contains(err.Error(), "timed out") || strings.Contains(err.Error(), "32s") {
		t.Errorf("error %q: want it timed out, without client-go's 32 s", err)
	}
}
