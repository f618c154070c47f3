package cluster

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// Watches wait until the caches have listed; lists and everything else go
// through at once, and a held watch whose request is cancelled returns.
func TestHoldWatchesHoldsOnlyWatchesUntilListed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	listed := make(chan struct{})
	c := &http.Client{Transport: holdWatches{next: http.DefaultTransport, until: listed}}
	get := func(ctx context.Context, query string) <-chan error {
		done := make(chan error, 1)
		go func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/v1/namespaces/a/pods?"+query, nil)
			resp, err := c.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			done <- err
		}()
		return done
	}
	ctx := context.Background()
	for _, q := range []string{"limit=500&resourceVersion=0", "watch=false", "labelSelector=watch%3Dtrue"} {
		select {
		case err := <-get(ctx, q):
			if err != nil {
				t.Errorf("?%s: %v", q, err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("?%s was held", q)
		}
	}
	watch := get(ctx, "allowWatchBookmarks=true&resourceVersion=12&watch=true")
	cancelled, cancel := context.WithCancel(ctx)
	abandoned := get(cancelled, "watch=true")
	select {
	case <-watch:
		t.Fatal("a watch went through before the caches listed")
	case <-time.After(200 * time.Millisecond):
	}
	cancel()
	select {
	case err := <-abandoned:
		if err == nil {
			t.Error("a cancelled held watch succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Error("a cancelled held watch did not return")
	}
	close(listed)
	select {
	case err := <-watch:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(5 * time.Second):
		t.Error("the watch was still held after the caches listed")
	}
}
