package cluster

import (
	"context"
	"io"
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

// A watch whose stream stalled (headers sent, then nothing) is ended by
// cutAll, and forgotten once its body is closed; lists are not recorded.
func TestCutAllEndsAStalledWatch(t *testing.T) {
	stalled := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		if r.URL.Query().Get("watch") == "true" {
			select { // the body never continues
			case <-stalled:
			case <-r.Context().Done():
			}
		}
	}))
	defer srv.Close()
	defer close(stalled)
	listed := make(chan struct{})
	close(listed)
	var open openWatches
	c := &http.Client{Transport: holdWatches{next: http.DefaultTransport, until: listed, open: &open}}
	list, err := c.Get(srv.URL + "/api/v1/pods")
	if err != nil {
		t.Fatal(err)
	}
	list.Body.Close()
	resp, err := c.Get(srv.URL + "/api/v1/pods?watch=true")
	if err != nil {
		t.Fatal(err)
	}
	read := make(chan error, 1)
	go func() {
		_, rerr := resp.Body.Read(make([]byte, 1))
		read <- rerr
	}()
	select {
	case <-read:
		t.Fatal("the stalled watch returned before the cut")
	case <-time.After(100 * time.Millisecond):
	}
	if n := open.cutAll(); n != 1 {
		t.Errorf("cutAll cut %d watches, want the one watch", n)
	}
	select {
	case rerr := <-read:
		if rerr == nil {
			t.Error("the cut watch read on")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stalled watch was not ended by cutAll")
	}
	resp.Body.Close()
	if n := open.cutAll(); n != 0 {
		t.Errorf("a second cutAll cut %d watches, want none", n)
	}
	// A watch closed by its reader is forgotten without a cut.
	resp, err = c.Get(srv.URL + "/api/v1/pods?watch=true")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n := open.cutAll(); n != 0 {
		t.Errorf("a closed watch was still open: cutAll cut %d", n)
	}
}

// A watch that receives nothing for idle ends by itself; one that keeps
// receiving (the API server's bookmarks) does not.
func TestIdleWatchEnds(t *testing.T) {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-r.Context().Done():
				return
			case <-tick.C:
				if r.URL.Query().Get("quiet") == "" {
					_, _ = w.Write([]byte("{}\n")) // a bookmark
					http.NewResponseController(w).Flush()
				}
			}
		}
	}))
	defer srv.Close()
	defer close(stop)
	listed := make(chan struct{})
	close(listed)
	var open openWatches
	c := &http.Client{Transport: holdWatches{next: http.DefaultTransport, until: listed, open: &open, idle: 200 * time.Millisecond}}
	ended := func(query string) <-chan error {
		out := make(chan error, 1)
		resp, err := c.Get(srv.URL + "/api/v1/pods?watch=true" + query)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			defer resp.Body.Close()
			_, rerr := io.Copy(io.Discard, resp.Body)
			out <- rerr
		}()
		return out
	}
	quiet, talking := ended("&quiet=1"), ended("")
	select {
	case err := <-quiet:
		if err == nil {
			t.Error("the silent watch ended cleanly; want it cut")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a watch silent for 5 s was not ended (idle 200ms)")
	}
	select {
	case err := <-talking:
		t.Fatalf("a watch receiving bookmarks was ended: %v", err)
	case <-time.After(time.Second):
	}
}
