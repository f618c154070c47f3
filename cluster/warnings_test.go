package cluster

import (
	"bytes"
	"context"
	"flag"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
)

// TestAPIWarningsNeverRawKlog: a Warning header from the API server, met by a client built as
// vigil builds it (ResolveConnection), is logged and printed once as "warning: …" on the headless
// stream, never as client-go's klog line; with no stream (the TUI) it is logged only.
func TestAPIWarningsNeverRawKlog(t *testing.T) {
	const warning = `would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Add("Warning", `299 - "`+strings.ReplaceAll(warning, `"`, `\"`)+`"`)
		_, _ = w.Write([]byte(`{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]}`))
	}))
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(strings.Replace(testKubeconfig, "https://127.0.0.1:6443", srv.URL, 1)), 0o600); err != nil {
		t.Fatal(err)
	}

	// klog writes to os.Stderr by default: route it to a buffer to see any raw line.
	var klogOut bytes.Buffer
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	_ = fs.Set("logtostderr", "false")
	_ = fs.Set("alsologtostderr", "false")
	klog.SetOutput(&klogOut)
	t.Cleanup(func() {
		_ = fs.Set("logtostderr", "true")
		klog.SetOutput(os.Stderr)
		SetWarnings(nil, nil)
		rest.SetDefaultWarningHandlerWithContext(nil)
	})

	for _, tc := range []struct {
		name     string
		headless bool
	}{{"headless", true}, {"tui", false}} {
		t.Run(tc.name, func(t *testing.T) {
			klogOut.Reset()
			var logBuf, stderr bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logBuf, nil))
			if tc.headless {
				SetWarnings(func() *slog.Logger { return logger }, &stderr)
			} else {
				SetWarnings(func() *slog.Logger { return logger }, nil)
			}
			target, err := ResolveConnection(flagsFor(path, "local-1"), "vigil/test")
			if err != nil {
				t.Fatal(err)
			}
			kube, err := kubernetes.NewForConfig(target.RESTConfig)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if _, err := kube.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			klog.Flush()
			if klogOut.Len() != 0 {
				t.Errorf("klog line written: %q", klogOut.String())
			}
			if got := strings.Count(logBuf.String(), "api server warning"); got != 2 {
				t.Errorf("log has %d warnings, want 2:\n%s", got, logBuf.String())
			}
			want := ""
			if tc.headless {
				want = "warning: " + warning + "\n" // once, though met twice
			}
			if stderr.String() != want {
				t.Errorf("stderr = %q, want %q", stderr.String(), want)
			}
		})
	}
}
