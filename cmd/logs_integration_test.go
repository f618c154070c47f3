package cmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"

	"github.com/vigil-k8s/vigil/internal/clustertest"
)

// syncBuffer is a bytes.Buffer a running command writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// vigilLogs runs `vigil logs ARGS` (the command tree main runs) until it returns or ctx ends.
func vigilLogs(ctx context.Context, t *testing.T, lc *clustertest.Cluster, out, errOut *syncBuffer, args ...string) error {
	t.Helper()
	home := t.TempDir()
	env := map[string]string{"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "config"), "XDG_STATE_HOME": filepath.Join(home, "state")}
	c := newCommand(genericiooptions.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut}, func(k string) string { return env[k] })
	c.SetArgs(append([]string{"logs", "--kubeconfig", lc.Kubeconfig}, args...))
	return c.ExecuteContext(ctx)
}

// logLine is one line of `vigil logs --timestamps`.
type logLine struct {
	at             time.Time
	pod, container string
	text           string
}

func parseVigilLogs(t *testing.T, out string) []logLine {
	t.Helper()
	var lines []logLine
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		ts, rest, _ := strings.Cut(sc.Text(), " ")
		tag, text, _ := strings.Cut(rest, " ")
		pod, container, ok := strings.Cut(strings.Trim(tag, "[]"), "/")
		at, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil || !ok {
			t.Fatalf("not a `vigil logs --timestamps` line: %q", sc.Text())
		}
		lines = append(lines, logLine{at, pod, container, text})
	}
	return lines
}

// podLogs is the pod's log as client-go's GetLogs returns it, the request kubectl makes.
func podLogs(t *testing.T, kube kubernetes.Interface, ns, pod, container string, previous bool) []logLine {
	t.Helper()
	raw, err := kube.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: container, Timestamps: true, Previous: previous}).DoRaw(context.Background())
	if err != nil {
		t.Fatalf("GetLogs %s/%s: %v", pod, container, err)
	}
	var lines []logLine
	for _, l := range strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n") {
		ts, text, _ := strings.Cut(l, " ")
		at, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			t.Fatalf("GetLogs line %q: %v", l, err)
		}
		lines = append(lines, logLine{at, pod, container, text})
	}
	return lines
}

// samePrefix checks that vigil's lines of one pod are the pod's own log from its first line up
// to vigil's last one, nothing missing, nothing added, in order.
func samePrefix(t *testing.T, pod string, got, want []logLine) {
	t.Helper()
	if len(got) == 0 {
		t.Errorf("%s: no lines", pod)
		return
	}
	if len(got) > len(want) {
		t.Errorf("%s: %d lines, more than the pod's own log has (%d)", pod, len(got), len(want))
		return
	}
	for i := range got {
		if !got[i].at.Equal(want[i].at) || got[i].text != want[i].text {
			t.Errorf("%s: line %d = %s %q, the pod's log has %s %q", pod, i, got[i].at, got[i].text, want[i].at, want[i].text)
			return
		}
	}
}

func byPod(lines []logLine) map[string][]logLine {
	m := map[string][]logLine{}
	for _, l := range lines {
		m[l.pod] = append(m[l.pod], l)
	}
	return m
}

// TestLogsAgainstTheLocalCluster: `vigil logs` merges the pods of a service in time order, each
// pod's lines exactly its own log (client-go GetLogs, fetched independently); --previous of the
// crash-looping notification-service ends with its crash; -f picks up the pods of a rollout
// made mid-stream and marks the old ones gone; logs: false in the config disables the command.
func TestLogsAgainstTheLocalCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a local cluster")
	}
	lc, err := clustertest.Start(clustertest.Options{Clusters: 1, Seed: true})
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Stop()
	admin := lc.Client(t, "local-1")
	const ns = "fintech-prod"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	podsOf := func(app string) []corev1.Pod {
		l, err := admin.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
		if err != nil {
			t.Fatal(err)
		}
		return l.Items
	}
	if err := clustertest.Eventually(90*time.Second, 500*time.Millisecond, func() (bool, error) {
		running := 0
		for _, p := range podsOf("api-gateway") {
			if len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Running != nil {
				running++
			}
		}
		crash := podsOf("notification-service")
		return running == 3 && len(crash) == 1 && len(crash[0].Status.ContainerStatuses) == 1 &&
			crash[0].Status.ContainerStatuses[0].RestartCount >= 1, nil
	}); err != nil {
		t.Fatalf("api-gateway's 3 pods and a restarted notification-service never showed: %v", err)
	}

	t.Run("api-gateway's three pods merged in time order", func(t *testing.T) {
		var out, errOut syncBuffer
		begin := time.Now()
		if err := vigilLogs(ctx, t, lc, &out, &errOut, "--context", "local-1-reviewer", "api-gateway", "-n", ns, "--timestamps"); err != nil {
			t.Fatalf("vigil logs: %v\n%s", err, errOut.String())
		}
		lines := parseVigilLogs(t, out.String())
		for i := 1; i < len(lines); i++ {
			if lines[i].at.Before(lines[i-1].at) {
				t.Fatalf("line %d (%s) is older than line %d (%s): not merged in time order", i, lines[i].at, i-1, lines[i-1].at)
			}
		}
		got := byPod(lines)
		pods := podsOf("api-gateway")
		if len(got) != 3 || len(pods) != 3 {
			t.Fatalf("lines of %d pods, the service has %d", len(got), len(pods))
		}
		for _, p := range pods {
			mine := got[p.Name]
			samePrefix(t, p.Name, mine, podLogs(t, admin, ns, p.Name, "api-gateway", false))
			if len(mine) > 0 && mine[len(mine)-1].at.Before(begin.Add(-2*time.Second)) {
				t.Errorf("%s: last line at %s, the read began at %s: lines missing at the end", p.Name, mine[len(mine)-1].at, begin)
			}
		}
	})

	t.Run("--tail 2 keeps each pod's last two lines", func(t *testing.T) {
		var out, errOut syncBuffer
		begin := time.Now()
		if err := vigilLogs(ctx, t, lc, &out, &errOut, "--context", "local-1-reviewer", "api-gateway", "-n", ns, "--tail", "2", "--timestamps"); err != nil {
			t.Fatalf("vigil logs --tail 2: %v\n%s", err, errOut.String())
		}
		got := byPod(parseVigilLogs(t, out.String()))
		if len(got) != 3 {
			t.Fatalf("lines of %d pods, want the 3 of api-gateway:\n%s", len(got), out.String())
		}
		for p, mine := range got {
			want := podLogs(t, admin, ns, p, "api-gateway", false)
			if len(mine) != 2 {
				t.Errorf("%s: %d lines, want 2", p, len(mine))
				continue
			}
			at := slices.IndexFunc(want, func(l logLine) bool { return l.at.Equal(mine[0].at) && l.text == mine[0].text })
			if at < 0 || at+1 >= len(want) || want[at+1].text != mine[1].text || !want[at+1].at.Equal(mine[1].at) {
				t.Errorf("%s: %v are not two consecutive lines of the pod's log", p, mine)
				continue
			}
			// What follows them in the log was written after the read began.
			for _, l := range want[at+2:] {
				if l.at.Before(begin.Add(-time.Second)) {
					t.Errorf("%s: the log has %s %q after vigil's last line, written before the read: not the tail", p, l.at, l.text)
					break
				}
			}
		}
	})

	t.Run("a backlog beyond --buffer-lines keeps the newest and says what it left out", func(t *testing.T) {
		var out, errOut syncBuffer
		begin := time.Now()
		if err := vigilLogs(ctx, t, lc, &out, &errOut, "--context", "local-1", "api-gateway", "-n", ns, "--buffer-lines", "5", "--timestamps"); err != nil {
			t.Fatalf("vigil logs --buffer-lines 5: %v\n%s", err, errOut.String())
		}
		lines := parseVigilLogs(t, out.String())
		if len(lines) != 5 {
			t.Fatalf("%d lines, want the 5 the buffer holds:\n%s", len(lines), out.String())
		}
		var leftOut int
		if _, err := fmt.Sscanf(errOut.String(), "vigil: the %d oldest lines left out: the pods' logs hold more than --buffer-lines 5", &leftOut); err != nil || strings.Contains(errOut.String(), "slower") {
			t.Fatalf("stderr %q: want the count of the oldest lines left out, and no blame on the output's speed", errOut.String())
		}
		oldest := lines[0].at
		total, before := 0, 0
		for _, p := range podsOf("api-gateway") {
			type key struct {
				at   int64
				text string
			}
			mine := map[key]bool{}
			for _, l := range lines {
				if l.pod == p.Name {
					mine[key{l.at.UnixNano(), l.text}] = true
				}
			}
			for _, l := range podLogs(t, admin, ns, p.Name, "api-gateway", false) {
				total++
				if l.at.Before(begin) {
					before++
				}
				// Every line newer than vigil's oldest and older than the read is among the 5.
				if l.at.After(oldest) && l.at.Before(begin.Add(-time.Second)) && !mine[key{l.at.UnixNano(), l.text}] {
					t.Errorf("%s: %s %q is newer than the oldest line kept, yet left out", p.Name, l.at, l.text)
				}
			}
		}
		if leftOut+5 > total || leftOut+5 < before {
			t.Errorf("%d left out + 5 shown: the pods' logs held %d lines before the read and %d after it", leftOut, before, total)
		}
	})

	t.Run("notification-service --previous shows the crash", func(t *testing.T) {
		for attempt := 0; ; attempt++ {
			pod := podsOf("notification-service")[0]
			var out, errOut syncBuffer
			if err := vigilLogs(ctx, t, lc, &out, &errOut, "--context", "local-1", "notification-service", "-n", ns, "--previous", "--timestamps"); err != nil {
				t.Fatalf("vigil logs --previous: %v\n%s", err, errOut.String())
			}
			want := podLogs(t, admin, ns, pod.Name, "notification-service", true)
			got := parseVigilLogs(t, out.String())
			after := podsOf("notification-service")[0]
			if after.Status.ContainerStatuses[0].RestartCount != pod.Status.ContainerStatuses[0].RestartCount && attempt < 3 {
				continue // it crashed again between the reads
			}
			if len(got) != len(want) {
				t.Fatalf("vigil logs --previous:\n%s\nthe pod's previous log (GetLogs previous=true) has %d lines", out.String(), len(want))
			}
			samePrefix(t, pod.Name, got, want)
			if last := got[len(got)-1].text; !strings.HasPrefix(last, `level=fatal msg="unrecoverable error, exiting"`) {
				t.Errorf("the previous run does not end with the crash message: %q", last)
			}
			break
		}
		// A crash-looping container shows its last run either way; api-gateway, which never
		// restarted, tells --previous from the current log: no lines, the kubelet's reason.
		var out, errOut syncBuffer
		if err := vigilLogs(ctx, t, lc, &out, &errOut, "--context", "local-1", "api-gateway", "-n", ns, "--previous"); err != nil {
			t.Fatalf("vigil logs api-gateway --previous: %v", err)
		}
		if out.String() != "" || strings.Count(errOut.String(), `previous terminated container "api-gateway" in pod`) != 3 {
			t.Errorf("api-gateway --previous: stdout\n%s\nstderr\n%s\nwant no lines and the kubelet's reason for each of the 3 pods", out.String(), errOut.String())
		}
	})

	t.Run("follow: a rollout mid-stream adds the new pods' lines", func(t *testing.T) {
		old := map[string]bool{}
		for _, p := range podsOf("api-gateway") {
			old[p.Name] = true
		}
		fctx, fcancel := context.WithCancel(ctx)
		defer fcancel()
		var out, errOut syncBuffer
		done := make(chan error, 1)
		go func() {
			done <- vigilLogs(fctx, t, lc, &out, &errOut, "--context", "local-1-reviewer", "api-gateway", "-n", ns, "-f", "--since", "3s", "--timestamps")
		}()
		waitFor := func(what string, ok func(map[string][]logLine) bool) {
			t.Helper()
			if err := clustertest.Eventually(90*time.Second, 200*time.Millisecond, func() (bool, error) {
				return ok(byPod(parseVigilLogs(t, out.String()))), nil
			}); err != nil {
				t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", what, err, out.String(), errOut.String())
			}
		}
		waitFor("lines of the 3 pods", func(m map[string][]logLine) bool { return len(m) == 3 })

		patch := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{"vigil.dev/restartedAt":%q}}}}}`, time.Now().Format(time.RFC3339))
		if _, err := admin.AppsV1().Deployments(ns).Patch(ctx, "api-gateway", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		var fresh []string
		waitFor("lines of the rollout's 3 new pods, and the old ones gone", func(m map[string][]logLine) bool {
			fresh = fresh[:0]
			for p := range m {
				if !old[p] {
					fresh = append(fresh, p)
				}
			}
			gone := 0
			for p := range old {
				if strings.Contains(errOut.String(), "pod "+p+" is gone") {
					gone++
				}
			}
			return len(fresh) == 3 && gone == 3
		})
		fcancel()
		if err := <-done; err != nil {
			t.Fatalf("vigil logs -f: %v", err)
		}
		got := byPod(parseVigilLogs(t, out.String()))
		slices.Sort(fresh)
		for _, p := range fresh {
			if !strings.Contains(errOut.String(), "pod "+p+" appeared") {
				t.Errorf("new pod %s not announced:\n%s", p, errOut.String())
			}
			want := podLogs(t, admin, ns, p, "api-gateway", false)
			// From the new pod's first line, every line, in order.
			samePrefix(t, p, got[p], want)
			if len(got[p]) > 0 && !strings.HasPrefix(got[p][0].text, `level=info msg="starting"`) {
				t.Errorf("%s: the new pod's lines do not start at its start: %q", p, got[p][0].text)
			}
		}
		for p := range old {
			// The old pods' lines, from --since on, are their own log's lines.
			mine := got[p]
			if len(mine) == 0 {
				t.Errorf("old pod %s: no lines", p)
			}
		}
	})

	t.Run("logs: false disables them, naming the setting", func(t *testing.T) {
		cfg := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(cfg, []byte("contexts:\n  local-1:\n    logs: false\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut syncBuffer
		err := vigilLogs(ctx, t, lc, &out, &errOut, "--config", cfg, "--context", "local-1", "api-gateway", "-n", ns)
		want := "logs are disabled for context local-1 by contexts.local-1.logs (" + cfg + ":3)"
		if err == nil || err.Error() != want {
			t.Errorf("err = %v, want %q", err, want)
		}
		if out.String() != "" {
			t.Errorf("logs printed anyway:\n%s", out.String())
		}
		// The evidence bundle records it, and records enabled logs as enabled.
		for _, tc := range []struct{ config, want string }{
			{cfg, "disabled by contexts.local-1.logs (" + cfg + ":3)"},
			{filepath.Join(t.TempDir(), "none.yaml"), "enabled"},
		} {
			if tc.want == "enabled" {
				if err := os.WriteFile(tc.config, []byte("readOnly: true\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			dir := filepath.Join(t.TempDir(), "bundle")
			var eout, eerr syncBuffer
			home := t.TempDir()
			env := map[string]string{"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "config"), "XDG_STATE_HOME": filepath.Join(home, "state")}
			c := newCommand(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &eout, ErrOut: &eerr}, func(k string) string { return env[k] })
			c.SetArgs([]string{"audit", "export", "--kubeconfig", lc.Kubeconfig, "--context", "local-1", "--config", tc.config, "-n", ns, "--out", dir})
			if err := c.ExecuteContext(ctx); err != nil {
				t.Fatalf("audit export: %v\n%s", err, eerr.String())
			}
			raw, err := os.ReadFile(filepath.Join(dir, "identity.json"))
			if err != nil {
				t.Fatal(err)
			}
			var id struct {
				Logs *string `json:"logs"`
			}
			if err := json.Unmarshal(raw, &id); err != nil || id.Logs == nil || *id.Logs != tc.want {
				t.Errorf("identity.json logs = %q (%v), want %q", deref(id.Logs), err, tc.want)
			}
		}
	})
}
