package cluster

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/vigil-k8s/vigil/cluster/readonly"
	"github.com/vigil-k8s/vigil/config"
)

// TestPollRatesReadOnly: with the read-only transport on the Prometheus client (as in
// read-only mode), the error-rate query still answers, and Prometheus sees nothing but GETs.
// client_golang POSTs /api/v1/query first and falls back to GET only on a 405-like response,
// which the transport's refusal (an error, no response) never is.
func TestPollRatesReadOnly(t *testing.T) {
	backend := fakePrometheus(t, "")
	target, err := url.Parse(backend.URL)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path)
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	defer srv.Close()
	s, err := New(Options{Client: fake.NewClientset(), Context: "c1", Namespaces: []string{"p"}, Generation: 1,
		Settings:   config.Settings{Prometheus: srv.URL, AlertLabels: config.AlertLabels{Match: map[string]string{"cluster": "c1"}}},
		WrapClient: readonly.WrapClient,
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	v := firstPoll(t, s)
	if len(v.Rates) != 1 || v.RatesErr != "" {
		t.Errorf("read-only mode: rates = %+v, err %q; want the one service's rates", v.Rates, v.RatesErr)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(seen, "GET /api/v1/query") {
		t.Errorf("Prometheus never saw the rate query as a GET: %v", seen)
	}
	for _, r := range seen {
		if r[:4] != "GET " {
			t.Errorf("Prometheus saw %s in read-only mode", r)
		}
	}
}

// TestGetOnlyKeepsTheQuery: the GET carries every form argument the POST would have, and a
// request that is already a GET passes unchanged.
func TestGetOnlyKeepsTheQuery(t *testing.T) {
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[]}}`))
	}))
	defer srv.Close()
	c, err := newPrometheusClient(srv.URL, readonly.WrapClient(nil))
	if err != nil {
		t.Fatal(err)
	}
	u := c.URL("/api/v1/query", nil)
	form := url.Values{"query": {`sum by (service) (rate(http_requests_total{code=~"5.."}[5m]))`}, "time": {"1764151200"}}
	req, err := http.NewRequest(http.MethodPost, u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Body = io.NopCloser(strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if _, _, err = c.Do(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if got.Method != http.MethodGet || got.URL.Query().Get("query") != form.Get("query") || got.URL.Query().Get("time") != "1764151200" {
		t.Errorf("server saw %s %s", got.Method, got.URL)
	}
}
