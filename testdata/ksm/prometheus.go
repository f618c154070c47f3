package ksm

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-k8s/vigil/internal/clustertest"
)

// PrometheusBinary is the real Prometheus: $PROMETHEUS_BIN, else on PATH, else the
// repository's bin/ (where the lead builds it; tests never build it).
func PrometheusBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("PROMETHEUS_BIN"); p != "" {
		return p
	}
	if p, err := exec.LookPath("prometheus"); err == nil {
		return p
	}
	p := filepath.Join(clustertest.RepoRoot(), "bin", "prometheus")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("no prometheus binary on PATH, in $PROMETHEUS_BIN or at %s (make promtools): %v", p, err)
	}
	return p
}

// StartPrometheus runs the real Prometheus, scraping each cluster's exposition from ksm
// (its /metrics/<cluster>)
// every second with a cluster target label, as a fleet Prometheus (or a Thanos/Mimir fed by
// each cluster's) holds them, evaluating rules. It returns the base URL; the process is
// killed at cleanup.
func StartPrometheus(t testing.TB, ksm string, clusters []string, rules string) string {
	t.Helper()
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	host := strings.TrimPrefix(ksm, "http://")
	var targets strings.Builder
	for _, c := range clusters {
		fmt.Fprintf(&targets, "  - targets: [%q]\n    labels: {cluster: %q, __metrics_path__: \"/metrics/%s\"}\n", host, c, c)
	}
	cfg := fmt.Sprintf("global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\nrule_files: [rules.yml]\nscrape_configs:\n- job_name: kube-state-metrics\n  static_configs:\n%s", targets.String())
	for name, body := range map[string]string{"prometheus.yml": cfg, "rules.yml": rules} {
		if werr := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); werr != nil {
			t.Fatal(werr)
		}
	}
	logf, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(PrometheusBinary(t), "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = logf.Close()
	})
	url := "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url + "/-/ready")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("prometheus at %s not ready after 60s: %v\n%s", url, err, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
