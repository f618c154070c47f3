package e2e

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/vigil-k8s/vigil/internal/clustertest"
)

// TestSwitchPastAHangingContext (issue 14): on local-1, `:ctx hang` (a server that accepts
// connections and never answers, as a blackholed VPN endpoint does) then, while that switch
// hangs, `:ctx local-2`. vigil lands on local-2 soon after the second command, with
// local-2's services on screen; the hanging switch is given up (every connection vigil
// opened to that server is closed by vigil, as the server sees) and the old session is
// stopped: local-1's API server audit log shows every WATCH of Argo CD Applications vigil
// started since this test began (User-Agent vigil/, stage ResponseStarted) ended
// (ResponseComplete), whatever other clients watch.
func TestSwitchPastAHangingContext(t *testing.T) {
	hang := newBlackhole(t)
	kcPath := withContext(t, "hang", "https://"+hang.addr)
	from := auditOffsets(t)[1]
	term := startScreens(t, []string{"KUBECONFIG=" + kcPath}, "--context", "local-1")
	waitSynced(t, term, "fintech-prod", "payment-service")
	// The watches start after the first complete screen (the start-up lists come first), and
	// the audit log is written behind the requests: the clean-worktree CI run of e1884b8 looked
	// 0.4 s after start and found none yet.
	if err := clustertest.Eventually(10*time.Second, 100*time.Millisecond, func() (bool, error) {
		return openWatches(t, from, "argoproj.io", "applications") > 0, nil
	}); err != nil {
		t.Fatal("precondition: 10 s after the first complete screen, local-1's audit log shows no open WATCH of Argo CD Applications by this vigil")
	}

	command(t, term, "ctx hang")
	if !hang.waitAccepted(10 * time.Second) {
		t.Fatal("the switch to hang never connected to it")
	}
	start := time.Now()
	command(t, term, "ctx local-2")
	screen, ok := term.WaitFor(10*time.Second, func(s string) bool {
		return LineWith(s, "vigil", "ctx local-2 ") != "" && LineWith(s, "● connected") != "" && LineWith(s, "fintech-prod", "payment-service") != ""
	})
	took := time.Since(start)
	if !ok {
		t.Fatalf("never landed on local-2:\n%s", screen)
	}
	t.Logf("landed on local-2 %s after :ctx local-2 (the switch to hang still in flight)", took.Round(time.Millisecond))
	// The target is 2 s (measured 0.7-1.9 s on this 2-core machine under a load of 5-9);
	// the bound asserted leaves CI's load room.
	if took > 5*time.Second {
		t.Errorf("landed on local-2 %s after the command; want within 5 s (target 2 s)", took.Round(time.Millisecond))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		open, w := hang.open(), openWatches(t, from, "argoproj.io", "applications")
		if open == 0 && w == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s after landing on local-2: %d connections to hang still open, %d WATCHes of Applications on local-1 (the old session or the given-up switch lives on)", open, w)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if s := term.Screen(); LineWith(s, "vigil", "ctx local-2 ") == "" {
		t.Errorf("the given-up switch to hang changed the screen afterwards:\n%s", s)
	}
}

// blackhole accepts TCP connections and never writes a byte; it counts the connections the
// client has not closed.
type blackhole struct {
	addr     string
	mu       sync.Mutex
	accepted int
	closed   int
	first    chan struct{}
}

func newBlackhole(t *testing.T) *blackhole {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackhole{addr: ln.Addr().String(), first: make(chan struct{})}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			b.mu.Lock()
			b.accepted++
			if b.accepted == 1 {
				close(b.first)
			}
			b.mu.Unlock()
			go func() {
				_, _ = bufio.NewReader(conn).ReadString(0) // until the client closes
				_ = conn.Close()
				b.mu.Lock()
				b.closed++
				b.mu.Unlock()
			}()
		}
	}()
	return b
}

func (b *blackhole) waitAccepted(d time.Duration) bool {
	select {
	case <-b.first:
		return true
	case <-time.After(d):
		return false
	}
}

func (b *blackhole) open() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.accepted - b.closed
}

// openWatches counts the WATCH requests of group/resource by vigil (User-Agent vigil/) that
// local-1's apiserver audit log shows started after offset from and not yet ended.
func openWatches(t *testing.T, from int64, group, resource string) int {
	t.Helper()
	f, err := os.Open(auditLogPath(1))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err = f.Seek(from, 0); err != nil {
		t.Fatal(err)
	}
	open := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var ev struct {
			AuditID, Stage, Verb, UserAgent string
			ObjectRef                       *struct{ Resource, APIGroup string }
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Verb != "watch" || !strings.HasPrefix(ev.UserAgent, "vigil/") ||
			ev.ObjectRef == nil || ev.ObjectRef.Resource != resource || ev.ObjectRef.APIGroup != group {
			continue
		}
		switch ev.Stage {
		case "ResponseStarted":
			open[ev.AuditID] = true
		case "ResponseComplete", "Panic":
			delete(open, ev.AuditID)
		}
	}
	return len(open)
}

// withContext writes a copy of the local clusters' kubeconfig with one more context, name,
// local-1's user against server, and returns its path.
func withContext(t *testing.T, name, server string) string {
	t.Helper()
	kc, err := clientcmd.LoadFromFile(lc.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	c := kc.Clusters[kc.Contexts["local-1"].Cluster].DeepCopy()
	c.Server = server
	kc.Clusters[name] = c
	ctx := kc.Contexts["local-1"].DeepCopy()
	ctx.Cluster = name
	kc.Contexts[name] = ctx
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err = clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}
