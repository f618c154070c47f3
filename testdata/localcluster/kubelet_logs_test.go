package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/kubectl/pkg/cmd/logs"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
)

// The contract of testdata/README.md ("Container logs"), written out again
// here so the test does not compute what it checks with the code it checks.
const (
	wantCrash = `level=fatal msg="unrecoverable error, exiting" error="dial tcp 10.96.0.53:5432: connect: connection refused"`
)

func wantLine(pod, container string, start, t time.Time) string {
	if t.Equal(start) {
		return `level=info msg="starting" container=` + container + ` pod=` + pod
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%s/%d", pod, container, t.Unix()))
	v := binary.BigEndian.Uint64(sum[:8])
	method := []string{"GET", "GET", "GET", "POST", "PUT"}[v%5]
	status := map[uint64]int{0: 500, 1: 404}[(v>>20)%100]
	if status == 0 {
		status = 200
	}
	return fmt.Sprintf("level=info method=%s path=/api/v1/%s/%d status=%d duration_ms=%d request_id=%016x",
		method, container, (v>>8)%10000, status, (v>>32)%250+1, v)
}

// kubectlLogs runs kubectl's own logs command code (flags, Complete,
// Validate, RunLogsContext) against kubeconfig and returns its stdout.
func kubectlLogs(ctx context.Context, t *testing.T, kubeconfig, kubeContext, ns string, args ...string) (string, error) {
	t.Helper()
	flags := genericclioptions.NewConfigFlags(true)
	*flags.KubeConfig, *flags.Context, *flags.Namespace = kubeconfig, kubeContext, ns
	f := cmdutil.NewFactory(cmdutil.NewMatchVersionFlags(flags))
	var out, errOut bytes.Buffer
	o := logs.NewLogsOptions(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	cmd := &cobra.Command{Use: "logs"}
	o.AddFlags(cmd)
	if err := cmd.Flags().Parse(args); err != nil {
		return "", err
	}
	if err := o.Complete(f, cmd, cmd.Flags().Args()); err != nil {
		return "", err
	}
	if err := o.Validate(); err != nil {
		return "", err
	}
	err := o.RunLogsContext(ctx)
	return out.String(), err
}

// stamped splits "RFC3339 text" lines.
func stamped(t *testing.T, out string) (times []time.Time, texts []string) {
	t.Helper()
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if l == "" {
			continue
		}
		ts, text, ok := strings.Cut(l, " ")
		tm, err := time.Parse(time.RFC3339Nano, ts)
		if !ok || err != nil {
			t.Fatalf("line without timestamp: %q", l)
		}
		times, texts = append(times, tm), append(texts, text)
	}
	return times, texts
}

func TestKubectlLogsAgainstSimulatedKubelets(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	closeLog, err := setupLogging(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer closeLog()
	clusters, err := startClusters(ctx, dir, 1, podsPerNodeFor(0))
	defer stopClusters(clusters)
	if err != nil {
		t.Fatal(err)
	}
	c := clusters[0]
	kc := clientcmdapi.NewConfig()
	if err = addCluster(kc, c.spec, c.ports.APIServer); err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err = writeKubeconfig(kubeconfig, kc); err != nil {
		t.Fatal(err)
	}
	c.startInformers(ctx)
	if err = seedAll(ctx, filepath.Join("..", "fintech"), clusters); err != nil {
		t.Fatal(err)
	}
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: kubeconfig}, &clientcmd.ConfigOverrides{CurrentContext: "local-1"}).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	client := kubernetes.NewForConfigOrDie(rc)
	const ns = "fintech-prod"

	// A crash-looping pod that has restarted at least once, and the three
	// Running api-gateway pods.
	var crashing corev1.Pod
	var gateways []corev1.Pod
	if err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		l, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=notification-service"})
		if err != nil || len(l.Items) != 1 || len(l.Items[0].Status.ContainerStatuses) != 1 ||
			l.Items[0].Status.ContainerStatuses[0].RestartCount < 1 {
			return false, nil
		}
		crashing = l.Items[0]
		g, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=api-gateway"})
		if err != nil || len(g.Items) != 3 {
			return false, nil
		}
		for _, p := range g.Items {
			if len(p.Status.ContainerStatuses) != 1 || p.Status.ContainerStatuses[0].State.Running == nil {
				return false, nil
			}
		}
		gateways = g.Items
		return true, nil
	}); err != nil {
		t.Fatalf("seeded pods never got there: %v", err)
	}

	t.Run("previous of a crash-looping container ends with the crash message", func(t *testing.T) {
		// The pod as the API reports it around the read: its last
		// termination is what --previous reads. The crash loop may move on
		// during the read; then read again.
		var out string
		var pod *corev1.Pod
		for attempt := 0; ; attempt++ {
			before, err := client.CoreV1().Pods(ns).Get(ctx, crashing.Name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			out, err = kubectlLogs(ctx, t, kubeconfig, "local-1-reviewer", ns, "--previous", "--timestamps", "pod/"+crashing.Name)
			if err != nil {
				t.Fatalf("kubectl logs --previous: %v", err)
			}
			if pod, err = client.CoreV1().Pods(ns).Get(ctx, crashing.Name, metav1.GetOptions{}); err != nil {
				t.Fatal(err)
			}
			if before.Status.ContainerStatuses[0].RestartCount == pod.Status.ContainerStatuses[0].RestartCount || attempt == 3 {
				break
			}
		}
		cs := pod.Status.ContainerStatuses[0]
		last := cs.LastTerminationState.Terminated
		if last == nil {
			t.Fatalf("no last termination in %+v", cs)
		}
		var want []string
		for tm := last.StartedAt.Time; tm.Before(last.FinishedAt.Time); tm = tm.Add(time.Second) {
			want = append(want, tm.UTC().Format(time.RFC3339)+" "+wantLine(pod.Name, cs.Name, last.StartedAt.Time, tm))
		}
		want = append(want, last.FinishedAt.UTC().Format(time.RFC3339)+" "+wantCrash)
		if got := strings.TrimSuffix(out, "\n"); got != strings.Join(want, "\n") {
			t.Errorf("kubectl logs --previous:\n%s\nwant (from the pod's last termination, restart %d):\n%s", out, cs.RestartCount, strings.Join(want, "\n"))
		}
		// A crash-looping container waits in back-off: its current log is
		// the last run's, as the kubelet answers.
		cur, err := kubectlLogs(ctx, t, kubeconfig, "local-1", ns, "pod/"+crashing.Name)
		if err != nil {
			t.Fatalf("kubectl logs: %v", err)
		}
		if !strings.HasSuffix(cur, wantCrash+"\n") {
			t.Errorf("current log of the waiting container does not end with the crash:\n%s", cur)
		}
	})

	t.Run("running container: one line a second since it started", func(t *testing.T) {
		for _, p := range gateways {
			before := time.Now()
			out, err := kubectlLogs(ctx, t, kubeconfig, "local-1", ns, "--timestamps", p.Name)
			after := time.Now()
			if err != nil {
				t.Fatalf("kubectl logs %s: %v", p.Name, err)
			}
			start := p.Status.ContainerStatuses[0].State.Running.StartedAt.Time
			times, texts := stamped(t, out)
			if len(times) == 0 || !times[0].Equal(start) {
				t.Fatalf("%s: log should start at the container's start %s:\n%s", p.Name, start, out)
			}
			for i := range times {
				if want := start.Add(time.Duration(i) * time.Second); !times[i].Equal(want) {
					t.Fatalf("%s: line %d at %s, want %s", p.Name, i, times[i], want)
				}
				if want := wantLine(p.Name, "api-gateway", start, times[i]); texts[i] != want {
					t.Fatalf("%s: line %d = %q, want %q", p.Name, i, texts[i], want)
				}
			}
			if lastT := times[len(times)-1]; lastT.Before(before.Add(-2*time.Second)) || lastT.After(after) {
				t.Errorf("%s: last line at %s, read between %s and %s", p.Name, lastT, before, after)
			}
		}
	})

	t.Run("tail, since, limit-bytes", func(t *testing.T) {
		p := gateways[0]
		out, err := kubectlLogs(ctx, t, kubeconfig, "local-1", ns, "--tail=3", p.Name)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(out, "\n"); n != 3 {
			t.Errorf("--tail=3 gave %d lines:\n%s", n, out)
		}
		sinceTime := time.Now().Add(-4 * time.Second).Truncate(time.Second)
		out, err = kubectlLogs(ctx, t, kubeconfig, "local-1", ns, "--timestamps", "--since-time="+sinceTime.Format(time.RFC3339), p.Name)
		if err != nil {
			t.Fatal(err)
		}
		times, _ := stamped(t, out)
		if len(times) < 4 || !times[0].Equal(sinceTime) {
			t.Errorf("--since-time=%s gave:\n%s", sinceTime.Format(time.RFC3339), out)
		}
		out, err = kubectlLogs(ctx, t, kubeconfig, "local-1", ns, "--limit-bytes=10", p.Name)
		if err != nil {
			t.Fatal(err)
		}
		if out != "level=info" {
			t.Errorf("--limit-bytes=10 gave %q", out)
		}
	})

	t.Run("follow streams new lines as they are written", func(t *testing.T) {
		p := gateways[1]
		fctx, fcancel := context.WithTimeout(ctx, 3500*time.Millisecond)
		defer fcancel()
		begin := time.Now()
		out, _ := kubectlLogs(fctx, t, kubeconfig, "local-1", ns, "-f", "--timestamps", "--tail=1", p.Name)
		times, texts := stamped(t, out)
		if len(times) < 3 {
			t.Fatalf("following for 3.5s gave %d lines:\n%s", len(times), out)
		}
		start := p.Status.ContainerStatuses[0].State.Running.StartedAt.Time
		for i := range times {
			if i > 0 && !times[i].Equal(times[i-1].Add(time.Second)) {
				t.Errorf("line %d at %s follows %s", i, times[i], times[i-1])
			}
			if want := wantLine(p.Name, "api-gateway", start, times[i]); texts[i] != want {
				t.Errorf("line %d = %q, want %q", i, texts[i], want)
			}
		}
		if !times[len(times)-1].After(begin.Add(time.Second)) {
			t.Errorf("no line written after the follow began at %s:\n%s", begin, out)
		}
	})

	t.Run("the kubelets answer only the apiserver's kubelet client certificate", func(t *testing.T) {
		caPEM, err := os.ReadFile(c.spec.pki.CA())
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(caPEM)
		get := func(certBase string) (int, error) {
			cfg := &tls.Config{RootCAs: pool, ServerName: "172.18.1.11"}
			if certBase != "" {
				pair, err := tls.LoadX509KeyPair(c.spec.pki.path(certBase+".crt"), c.spec.pki.path(certBase+".key"))
				if err != nil {
					t.Fatal(err)
				}
				cfg.Certificates = []tls.Certificate{pair}
			}
			hc := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
			resp, err := hc.Get("https://" + c.spec.kubeletAddr + "/containerLogs/" + ns + "/" + gateways[0].Name + "/api-gateway?tailLines=1")
			if err != nil {
				return 0, err
			}
			defer resp.Body.Close()
			return resp.StatusCode, nil
		}
		if code, err := get("kubelet-client"); err != nil || code != http.StatusOK {
			t.Errorf("kubelet-client: %d %v, want 200", code, err)
		}
		if code, err := get("admin"); err != nil || code != http.StatusForbidden {
			t.Errorf("admin certificate: %d %v, want 403", code, err)
		}
		if code, err := get(""); err == nil {
			t.Errorf("no client certificate: answered %d, want a refused handshake", code)
		}
	})

	t.Run("errors read as the kubelet's", func(t *testing.T) {
		_, err := kubectlLogs(ctx, t, kubeconfig, "local-1", ns, "--previous", gateways[0].Name)
		want := `previous terminated container "api-gateway" in pod "` + gateways[0].Name + `" not found`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("--previous of a container that never restarted: %v, want %q", err, want)
		}
	})
}
