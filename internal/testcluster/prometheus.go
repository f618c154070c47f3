package testcluster

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Prometheus is a Prometheus and an Alertmanager from Debian's packages, started by
// testdata/prometheus/start.sh on loopback ports, scraping the local cluster's services.
type Prometheus struct {
	// URL and AlertmanagerURL are the two servers' base URLs.
	URL, AlertmanagerURL string
	state                string
}

// StartPrometheus starts Prometheus and Alertmanager over the cluster's service metrics, with
// the alert rules' `for:` shortened (fast) so that they fire within seconds.
func (c *Cluster) StartPrometheus(fast bool) (*Prometheus, error) {
	if _, err := exec.LookPath("prometheus"); err != nil {
		return nil, fmt.Errorf("prometheus is not installed (apt-get install -y prometheus prometheus-alertmanager): %w", err)
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

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
