// Package clustertest runs the project's own control plane (bin/localcluster) for integration
// tests: it builds or finds the binary, starts it once per test package, waits for its
// KUBECONFIG line, hands each test its own namespace and stops the process by PID.
//
// It never lets a test pass silently: if the binary cannot be built or the clusters do not
// come up, TestMain fails the package.
package clustertest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Options says what to start.
type Options struct {
	// Clusters is how many independent clusters to run (local-1 … local-N); default 2.
	Clusters int
	// Seed applies testdata/fintech to every cluster.
	Seed bool
	// ScalePods adds that many simulated pods (benchmarks).
	ScalePods int
	// Dir keeps the state; empty means a fresh temporary directory removed by Stop.
	Dir string
	// ReadyTimeout bounds the wait for the KUBECONFIG line; default 3 minutes.
	ReadyTimeout time.Duration
	// EtcdGate routes each apiserver's etcd traffic through localcluster's delaying proxy
	// (--etcd-gate): SetEtcdDelay slows etcd down.
	EtcdGate bool
}

// Cluster is a running bin/localcluster process.
type Cluster struct {
	// Dir is the state directory (certificates, etcd data, audit logs).
	Dir string
	// Kubeconfig is the path of the generated kubeconfig (contexts local-N, local-N-reviewer).
	Kubeconfig string
	// MetricsURL serves the simulated services' Prometheus metrics.
	MetricsURL string
	// TargetsFile is the Prometheus file_sd file listing those metrics endpoints.
	TargetsFile string
	// ReadyIn is how long the last start took, from exec to the KUBECONFIG line.
	ReadyIn time.Duration

	opts    Options
	tempDir bool
	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
	stderr  *os.File
}

// RepoRoot is the vigil repository root, found from this source file.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Binary builds bin/localcluster if needed (the Go build cache makes this a no-op when it is
// up to date) and returns its path. VIGIL_LOCALCLUSTER names a prebuilt binary instead.
func Binary() (string, error) {
	if p := os.Getenv("VIGIL_LOCALCLUSTER"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("VIGIL_LOCALCLUSTER=%s: %w", p, err)
		}
		return p, nil
	}
	root := RepoRoot()
	build := exec.Command(filepath.Join(root, "scripts", "build-localcluster.sh"))
	build.Dir = root
	build.Stdout = os.Stderr
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("building bin/localcluster (scripts/build-localcluster.sh): %w", err)
	}
	return filepath.Join(root, "bin", "localcluster"), nil
}

// Start builds (if needed) and starts bin/localcluster and waits until it prints KUBECONFIG=.
func Start(opts Options) (*Cluster, error) {
	if opts.Clusters == 0 {
		opts.Clusters = 2
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 3 * time.Minute
	}
	c := &Cluster{opts: opts, Dir: opts.Dir}
	if c.Dir == "" {
		dir, err := os.MkdirTemp("", "vigil-localcluster-")
		if err != nil {
			return nil, err
		}
		c.Dir, c.tempDir = dir, true
	}
	if err := c.start(); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start() error {
	bin, err := Binary()
	if err != nil {
		return err
	}
	args := []string{"--dir", c.Dir, "--clusters", fmt.Sprint(c.opts.Clusters),
		"--manifests", filepath.Join(RepoRoot(), "testdata", "fintech")}
	if c.opts.Seed {
		args = append(args, "--seed")
	}
	if c.opts.ScalePods > 0 {
		args = append(args, "--scale-pods", fmt.Sprint(c.opts.ScalePods))
	}
	if c.opts.EtcdGate {
		args = append(args, "--etcd-gate")
	}
	stderr, err := os.OpenFile(filepath.Join(c.Dir, "localcluster.stderr"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = stderr
	cmd.SysProcAttr = childAttr()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", bin, err)
	}
	done := make(chan struct{})
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_ = cmd.Wait()
		close(done)
	}()
	c.mu.Lock()
	c.cmd, c.done, c.stderr = cmd, done, stderr
	c.mu.Unlock()

	timeout := time.After(c.opts.ReadyTimeout)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				return fmt.Errorf("localcluster exited before it was ready; last log lines:\n%s", c.tail(30))
			}
			key, val, _ := strings.Cut(line, "=")
			switch key {
			case "METRICS":
				c.MetricsURL = val
			case "PROMETHEUS_TARGETS":
				c.TargetsFile = val
			case "KUBECONFIG":
				c.Kubeconfig, c.ReadyIn = val, time.Since(started)
				go func() { // keep draining stdout
					for range lines {
					}
				}()
				return nil
			}
		case <-timeout:
			return fmt.Errorf("localcluster not ready after %s; last log lines:\n%s", c.opts.ReadyTimeout, c.tail(30))
		}
	}
}

// tail returns the last n lines of the process's stderr log.
func (c *Cluster) tail(n int) string {
	b, err := os.ReadFile(filepath.Join(c.Dir, "localcluster.stderr"))
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Kill stops the process (SIGTERM, then SIGKILL after 20 s) and keeps the state directory.
func (c *Cluster) Kill() error {
	c.mu.Lock()
	cmd, done, stderr := c.cmd, c.done, c.stderr
	c.cmd = nil
	c.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return nil
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	if stderr != nil {
		_ = stderr.Close()
	}
	return nil
}

// Restart stops the process and starts it again on the same state directory, as an apiserver
// outage and recovery would look to a client.
func (c *Cluster) Restart() error {
	if err := c.Kill(); err != nil {
		return err
	}
	return c.start()
}

// RSS is the resident memory of the localcluster process and its children
// (VmRSS of every process in its process group), in bytes.
func (c *Cluster) RSS() (uint64, error) {
	c.mu.Lock()
	cmd := c.cmd
	c.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return 0, errors.New("localcluster is not running")
	}
	return groupRSS("/proc", cmd.Process.Pid)
}

// groupRSS sums VmRSS over the processes of process group pgid under procDir.
func groupRSS(procDir string, pgid int) (uint64, error) {
	entries, err := os.ReadDir(procDir)
	if err != nil {
		return 0, err
	}
	var total uint64
	found := false
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join(procDir, e.Name(), "stat"))
		if err != nil {
			continue // gone since the listing
		}
		// pid (comm) state ppid pgrp …: comm may hold spaces and parentheses.
		rest := string(stat[bytes.LastIndexByte(stat, ')')+1:])
		f := strings.Fields(rest)
		if len(f) < 3 || f[2] != strconv.Itoa(pgid) {
			continue
		}
		status, err := os.ReadFile(filepath.Join(procDir, e.Name(), "status"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				if err != nil {
					return 0, fmt.Errorf("pid %d: VmRSS %q: %w", pid, v, err)
				}
				total += kb << 10
				found = true
			}
		}
	}
	if !found {
		return 0, fmt.Errorf("no process in group %d", pgid)
	}
	return total, nil
}

// Stop kills the process and removes a temporary state directory.
func (c *Cluster) Stop() {
	_ = c.Kill()
	if c.tempDir && os.Getenv("VIGIL_KEEP_LOCALCLUSTER") == "" {
		_ = os.RemoveAll(c.Dir)
	}
}

// RESTConfig returns the client configuration of a kubeconfig context (local-1, local-1-reviewer …).
func (c *Cluster) RESTConfig(contextName string) (*rest.Config, error) {
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: c.Kubeconfig},
		&clientcmd.ConfigOverrides{CurrentContext: contextName},
	).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("context %q in %s: %w", contextName, c.Kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 200, 400
	cfg.UserAgent = "vigil-tests"
	return cfg, nil
}

// TB is the part of testing.TB the helpers need.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
	Name() string
}

// Client returns a typed clientset for a context or fails the test.
func (c *Cluster) Client(t TB, contextName string) kubernetes.Interface {
	t.Helper()
	cfg, err := c.RESTConfig(contextName)
	if err != nil {
		t.Fatalf("%v", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("clientset for %s: %v", contextName, err)
	}
	return cs
}

// Namespace creates a namespace of the test's own in a context and deletes it at cleanup.
func (c *Cluster) Namespace(t TB, contextName string) string {
	t.Helper()
	cs := c.Client(t, contextName)
	base := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(base) > 40 {
		base = base[:40]
	}
	name := strings.Trim(base, "-") + "-" + rand.String(5)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = cs.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
	})
	return name
}

// Main is a TestMain body: it starts one cluster for the package, runs the tests and stops it.
// A cluster that cannot start fails the package loudly.
func Main(m interface{ Run() int }, opts Options, shared **Cluster) {
	c, err := Start(opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: local cluster did not start: %v\n", err)
		os.Exit(1)
	}
	*shared = c
	code := m.Run()
	c.Stop()
	os.Exit(code)
}

// Eventually polls cond every interval until it returns true or timeout passes; it returns the
// last error cond reported so a failing test can say what it saw.
func Eventually(timeout, interval time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		if time.Now().After(deadline) {
			if last == nil {
				last = errors.New("condition not met")
			}
			return fmt.Errorf("after %s: %w", timeout, last)
		}
		time.Sleep(interval)
	}
}

// CountAuditRequests counts the audit log records of cluster N (1-based) whose user agent
// starts with agentPrefix and whose verb is in verbs (all verbs when empty), at stage
// ResponseComplete.
func (c *Cluster) CountAuditRequests(cluster int, agentPrefix string, verbs ...string) (int, error) {
	f, err := os.Open(filepath.Join(c.Dir, fmt.Sprintf("local-%d", cluster), "audit.log"))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return countAudit(f, agentPrefix, verbs)
}

func countAudit(r io.Reader, agentPrefix string, verbs []string) (int, error) {
	n := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		ev, err := parseAuditLine(sc.Bytes())
		if err != nil {
			return n, err
		}
		if ev.Stage != "ResponseComplete" || !strings.HasPrefix(ev.UserAgent, agentPrefix) {
			continue
		}
		if len(verbs) == 0 || contains(verbs, ev.Verb) {
			n++
		}
	}
	return n, sc.Err()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// SetEtcdDelay holds what local-N's apiserver sends to its etcd by d (0: none) from the next
// chunk on; the cluster must have been started with EtcdGate.
func (c *Cluster) SetEtcdDelay(n int, d time.Duration) error {
	if !c.opts.EtcdGate {
		return errors.New("clustertest: SetEtcdDelay needs Options.EtcdGate")
	}
	// localcluster's EtcdDelayFile in its cluster directory.
	return os.WriteFile(filepath.Join(c.Dir, fmt.Sprintf("local-%d", n), "etcd-delay-ms"), []byte(fmt.Sprint(d.Milliseconds())), 0o644)
}
