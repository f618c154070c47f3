package cluster

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	promapi "github.com/prometheus/client_golang/api"
)

// getOnly is a Prometheus API client whose every query is a GET. client_golang sends
// /api/v1/query, query_range, series and labels as a form POST first and falls back to GET
// only on a 403, 405 or 501 *response*; read-only mode refuses the POST in the process, with
// an error and no response, so the fallback never runs and the error rates would silently
// disappear. A GET with the form as its query string is what the fallback sends anyway, and
// Prometheus answers both the same.
type getOnly struct{ promapi.Client }

// Do rewrites a form POST into the equivalent GET and passes every other request on as is.
func (c getOnly) Do(ctx context.Context, req *http.Request) (*http.Response, []byte, error) {
	if req.Method != http.MethodPost || !strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return c.Client.Do(ctx, req)
	}
	var form []byte
	if req.Body != nil {
		var err error
		form, err = io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("prometheus %s: reading the query: %w", req.URL.Path, err)
		}
	}
	args, err := url.ParseQuery(string(form))
	if err != nil {
		return nil, nil, fmt.Errorf("prometheus %s: the query is not a form: %w", req.URL.Path, err)
	}
	u := *req.URL
	q := u.Query()
	for k, vs := range args {
		q[k] = append(q[k], vs...)
	}
	u.RawQuery = q.Encode()
	get, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, err
	}
	for k, vs := range req.Header {
		if k != "Content-Type" && k != "Idempotency-Key" {
			get.Header[k] = vs
		}
	}
	return c.Client.Do(ctx, get)
}

// newPrometheusClient is the client vigil queries Prometheus with: every query a GET, so that
// read-only mode (which lets only GET, HEAD and OPTIONS out) loses nothing.
func newPrometheusClient(address string, hc *http.Client) (promapi.Client, error) {
	c, err := promapi.NewClient(promapi.Config{Address: address, Client: hc})
	if err != nil {
		return nil, err
	}
	return getOnly{c}, nil
}
