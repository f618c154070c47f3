package fleetbench

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// TestDelayProxiesRelayOnceWithTheDelay: a request through delayProxies' kubeconfig reaches
// the cluster's server over one connection of its own (a proxy dialing itself instead loops
// until the run runs out of sockets, as an earlier version did) and its answer comes back
// no sooner than the delay each way. No cluster needed.
func TestDelayProxiesRelayOnceWithTheDelay(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()

	kc := clientcmdapi.NewConfig()
	for _, name := range []string{"one", "two"} {
		kc.Clusters[name] = &clientcmdapi.Cluster{Server: srv.URL}
	}
	in := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, in); err != nil {
		t.Fatal(err)
	}
	const delay = 50 * time.Millisecond
	out, err := clientcmd.LoadFromFile(delayProxies(t, in, delay))
	if err != nil {
		t.Fatal(err)
	}
	client := srv.Client()
	client.Timeout = 5 * time.Second
	for name, c := range out.Clusters {
		if c.Server == srv.URL {
			t.Fatalf("cluster %s still points at the server", name)
		}
		start := time.Now()
		resp, err := client.Get(c.Server + "/api")
		if err != nil {
			t.Fatalf("cluster %s: %v", name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		if string(body) != "ok" {
			t.Fatalf("cluster %s: answer %q, want ok", name, body)
		}
		if took < 2*delay {
			t.Errorf("cluster %s: answered in %v, under the round trip of %v", name, took, 2*delay)
		}
		client.CloseIdleConnections()
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("the server saw %d connections, want 2 (one a cluster)", n)
	}
}
