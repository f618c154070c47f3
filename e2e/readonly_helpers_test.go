package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"charm.land/bubbles/v2/key"

	"github.com/vigil-k8s/vigil/internal/clustertest"
	"github.com/vigil-k8s/vigil/ui/common"
)

// countingProxy is a reverse proxy that counts the methods it forwards.
type countingProxy struct {
	*httptest.Server
	mu       sync.Mutex
	methods  map[string]int
	paths    []string
	requests map[string]int // "METHOD /path" → count, every method
}

func newCountingProxy(t *testing.T, target string) *countingProxy {
	t.Helper()
	p := &countingProxy{methods: map[string]int{}, requests: map[string]int{}}
	var handler http.Handler = http.NotFoundHandler() // a stand-in server (Argo CD) answers 404
	if target != "" {
		u, err := url.Parse(target)
		if err != nil {
			t.Fatal(err)
		}
		handler = httputil.NewSingleHostReverseProxy(u)
	}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.methods[r.Method]++
		p.requests[r.Method+" "+r.URL.Path]++
		if r.Method != http.MethodGet {
			p.paths = append(p.paths, r.Method+" "+r.URL.Path)
		}
		p.mu.Unlock()
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

// counts returns the methods seen so far and the non-GET requests.
func (p *countingProxy) counts() (map[string]int, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for k, v := range p.methods {
		out[k] = v
	}
	return out, slices.Clone(p.paths)
}

// byRequest returns how often each "METHOD /path" was seen so far.
func (p *countingProxy) byRequest() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for k, v := range p.requests {
		out[k] = v
	}
	return out
}

// mutatingVerbs are the audit verbs that change state.
var mutatingVerbs = []string{"create", "update", "patch", "delete", "deletecollection"}

// auditClusters are the clusters whose audit logs the proof reads (the e2e TestMain starts two).
var auditClusters = []int{1, 2}

func auditLogPath(cluster int) string {
	return filepath.Join(lc.Dir, fmt.Sprintf("local-%d", cluster), "audit.log")
}

// auditOffsets returns the current size of every cluster's audit log.
func auditOffsets(t *testing.T) map[int]int64 {
	t.Helper()
	out := map[int]int64{}
	for _, c := range auditClusters {
		fi, err := os.Stat(auditLogPath(c))
		if err != nil {
			t.Fatal(err)
		}
		out[c] = fi.Size()
	}
	return out
}

// vigilWrites reads every cluster's apiserver audit log from the offsets on and returns
// vigil's mutating requests (User-Agent vigil/, verb create/update/patch/delete/
// deletecollection, the self-review creates left out), split by whether they touched
// namespace ns of local-1.
func vigilWrites(t *testing.T, from map[int]int64, ns string) (inNS, elsewhere []string) {
	t.Helper()
	for _, c := range auditClusters {
		f, err := os.Open(auditLogPath(c))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Seek(from[c], 0); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			var ev clustertest.AuditEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				continue // a line being written
			}
			if ev.Stage != "ResponseComplete" || !strings.HasPrefix(ev.UserAgent, "vigil/") || !slices.Contains(mutatingVerbs, ev.Verb) {
				continue
			}
			what := fmt.Sprintf("local-%d: %s", c, ev.Verb)
			if r := ev.ObjectRef; r != nil {
				if ev.Verb == "create" && strings.HasPrefix(r.Resource, "selfsubject") {
					continue // SelfSubjectAccessReview/RulesReview/Review: they persist nothing
				}
				what += fmt.Sprintf(" %s/%s %s/%s", r.APIGroup, r.Resource, r.Namespace, r.Name)
				if r.Subresource != "" {
					what += "/" + r.Subresource
				}
				if c == 1 && r.Namespace == ns && ns != "" {
					inNS = append(inNS, what)
					continue
				}
			}
			elsewhere = append(elsewhere, what)
		}
		f.Close()
	}
	return inNS, elsewhere
}

// tmuxKey maps a bubbletea key name to tmux send-keys; literal is true for text.
func tmuxKey(k string) (name string, literal bool, ok bool) {
	named := map[string]string{
		"up": "Up", "down": "Down", "left": "Left", "right": "Right", "pgup": "PPage", "pgdown": "NPage",
		"home": "Home", "end": "End", "enter": "Enter", "esc": "Escape", "tab": "Tab", "shift+tab": "BTab",
		"space": "Space", "backspace": "BSpace",
	}
	if n, ok := named[k]; ok {
		return n, false, true
	}
	if c, found := strings.CutPrefix(k, "ctrl+"); found && len(c) == 1 {
		return "C-" + c, false, true
	}
	if len([]rune(k)) == 1 {
		return k, true, true
	}
	return "", false, false
}

// keyBindings lists every key of the default KeyMap, by field name, so that a binding added
// to ui/common is walked without editing this test.
func keyBindings() map[string][]string {
	out := map[string][]string{}
	km := reflect.ValueOf(common.DefaultKeyMap())
	for i := 0; i < km.NumField(); i++ {
		if b, ok := km.Field(i).Interface().(key.Binding); ok {
			out[km.Type().Field(i).Name] = b.Keys()
		}
	}
	return out
}

var activeTab = regexp.MustCompile(`\[([^\]]+)\]`)

// paletteOpen matches the command palette's prompt, ":" and what is typed before the cursor.
var paletteOpen = regexp.MustCompile(`(?m)^\s*:[^\n]*█`)

// readOnlyEnv is a private state/config home with a config pointing vigil's Prometheus and
// Alertmanager at the counting proxies, local-1's alert labels matched on cluster=local-1.
func readOnlyEnv(t *testing.T, prom, am *countingProxy) (env []string, dir string) {
	t.Helper()
	dir = t.TempDir()
	// Prometheus scrapes both clusters: the match keeps local-1's error rates apart.
	cfg := fmt.Sprintf("prometheus: %s\nalertmanager: %s\ncontexts:\n  local-1:\n    alertLabels:\n      match:\n        cluster: local-1\n", prom.URL, am.URL)
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"KUBECONFIG=" + lc.Kubeconfig, "NO_COLOR=1", "VIGIL_CONFIG=" + filepath.Join(dir, "config.yaml"),
		"XDG_STATE_HOME=" + filepath.Join(dir, "state"), "XDG_CONFIG_HOME=" + filepath.Join(dir, "config")}, dir
}

// headless runs the vigil binary and returns its combined output and error.
func headless(env []string, args ...string) (string, error) {
	cmd := exec.Command(vigil, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
