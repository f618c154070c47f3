package clustertest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Prometheus is a Prometheus and an Alertmanager, started by testdata/prometheus/start.sh on
// loopback ports, scraping the local cluster's services. The binaries come from PATH (Debian's
// prometheus and prometheus-alertmanager packages) or else from the repository's bin/, where
// PromBinaries builds them from pinned Go modules when missing.
type Prometheus struct {
	// URL and AlertmanagerURL are the two servers' base URLs.
	URL, AlertmanagerURL string
	state                string
}

// StartPrometheus starts Prometheus and Alertmanager over the cluster's service metrics, with
// the alert rules' `for:` shortened (fast) so that they fire within seconds.
func (c *Cluster) StartPrometheus(fast bool) (*Prometheus, error) {
	if err := PromBinaries(); err != nil {
		return nil, err
	}
	state, err := os.MkdirTemp(c.Dir, "prom-")
	if err != nil {
		return nil, err
	}
	pp, err := freePort()
	if err != nil {
		return nil, err
	}
	ap, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{"--state", state, "--targets", c.TargetsFile, "--prom-port", fmt.Sprint(pp), "--am-port", fmt.Sprint(ap)}
	if fast {
		args = append(args, "--fast")
	}
	cmd := exec.Command(filepath.Join(RepoRoot(), "testdata", "prometheus", "start.sh"), args...)
	out, err := cmd.Output()
	p := &Prometheus{state: state}
	if err != nil {
		p.Stop()
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		return nil, fmt.Errorf("testdata/prometheus/start.sh: %w: %s%s", err, out, stderr)
	}
	for _, line := range strings.Split(string(out), "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
		switch k {
		case "PROMETHEUS":
			p.URL = v
		case "ALERTMANAGER":
			p.AlertmanagerURL = v
		}
	}
	if p.URL == "" || p.AlertmanagerURL == "" {
		p.Stop()
		return nil, fmt.Errorf("testdata/prometheus/start.sh printed no PROMETHEUS=/ALERTMANAGER= lines: %s", out)
	}
	return p, nil
}

// Stop stops both servers.
func (p *Prometheus) Stop() {
	_ = exec.Command(filepath.Join(RepoRoot(), "testdata", "prometheus", "stop.sh"), "--state", p.state).Run()
}

// PromBinaries makes sure prometheus and alertmanager can be found by start.sh: on PATH
// ($PROMETHEUS_BIN, $ALERTMANAGER_BIN, prometheus, prometheus-alertmanager or alertmanager) or
// in the repository's bin/. When one is missing it runs scripts/build-promtools.sh (what
// `make promtools` runs), which builds it from a pinned Go module into bin/: minutes the first
// time, a no-op afterwards.
func PromBinaries() error {
	root := RepoRoot()
	found := func(env string, names ...string) bool {
		if p := os.Getenv(env); p != "" {
			_, err := exec.LookPath(p)
			return err == nil
		}
		for _, n := range names {
			if _, err := exec.LookPath(n); err == nil {
				return true
			}
			if fi, err := os.Stat(filepath.Join(root, "bin", n)); err == nil && fi.Mode()&0o111 != 0 {
				return true
			}
		}
		return false
	}
	var missing []string
	if !found("PROMETHEUS_BIN", "prometheus") {
		missing = append(missing, "prometheus")
	}
	if !found("ALERTMANAGER_BIN", "prometheus-alertmanager", "alertmanager") {
		missing = append(missing, "alertmanager")
	}
	if len(missing) == 0 {
		return nil
	}
	build := exec.Command(filepath.Join(root, "scripts", "build-promtools.sh"), missing...)
	build.Dir = root
	build.Stdout = os.Stderr
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building %s into bin/ (scripts/build-promtools.sh): %w", strings.Join(missing, " and "), err)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
