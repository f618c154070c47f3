// Package alertmanager builds vigil's one Alertmanager v2 API client: the
// Session's alert poll (cluster) and the silence actions (actions) use the
// same construction, so a base URL means the same thing to both.
package alertmanager

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	httptransport "github.com/go-openapi/runtime/client"
	"github.com/go-openapi/strfmt"
	amclient "github.com/prometheus/alertmanager/api/v2/client"
)

// NewAPI returns the v2 API of the Alertmanager at rawURL (e.g.
// http://alertmanager:9093, or with a path prefix when it is served under
// one), sending through hc. A URL without a host is refused with an error
// that says what to write.
func NewAPI(rawURL string, hc *http.Client) (*amclient.AlertmanagerAPI, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("alertmanager URL %q: want e.g. http://alertmanager:9093", rawURL)
	}
	tr := httptransport.NewWithClient(u.Host, strings.TrimSuffix(u.Path, "/")+amclient.DefaultBasePath, []string{u.Scheme}, hc)
	return amclient.New(tr, strfmt.Default), nil
}
