package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/vigil-k8s/vigil/internal/conntrack"
)

// fault is what the fault proxy does to the requests passing through it.
type fault int

const (
	faultNone fault = iota
	// faultLatency delays every request by faultProxy.latency.
	faultLatency
	// faultDropWatches cuts the open watch streams mid-stream (the TCP
	// connection closes without the end of the chunked body), and every
	// watch opened while the fault lasts shortly after it starts.
	faultDropWatches
	// faultTooMany answers every request 429 with Retry-After: 1, as API
	// Priority and Fairness rejects a request: alternately a Status body
	// (reason TooManyRequests) and the filter's own text/plain body.
	faultTooMany
	// faultGone answers every watch as a watch from a resourceVersion the
	// API server no longer has: alternately an ERROR event carrying a
	// Status of reason Expired, code 410, after a 200 (what a watch cache
	// says) and an HTTP 410 with that Status. Lists pass.
	faultGone
	// faultServerError answers every request 500 with an InternalError Status.
	faultServerError
	// faultStall sends the headers of every response and never the rest of
	// the body; open watch streams stop where they are. Clearing the fault
	// lets new requests through; what stalled stays stalled (a half-open
	// connection behind a middlebox that still acknowledges), until the
	// client gives up on it or the proxy closes.
	faultStall
	// faultStallStreams stalls the streams open when it is switched on,
	// for good as faultStall does, and nothing else: every new request is
	// answered, the health probe keeps working.
	faultStallStreams
)

func (f fault) String() string {
	return [...]string{"none", "latency", "drop-watches", "429", "410", "500", "stall", "stall-streams"}[f]
}

// faultProxy is a reverse proxy on 127.0.0.1 between a Session and the local
// cluster's kube-apiserver. The Session talks plain HTTP to it through a
// kubeconfig the test writes; the proxy talks TLS to the API server with the
// context's client certificate and CA. Faults are switched on and off with
// set; open watch streams are tracked so that they can be cut or stalled.
type faultProxy struct {
	srv       *httptest.Server
	upstream  *url.URL
	rt        http.RoundTripper
	closeRT   func()
	closeOnce sync.Once

	mu      sync.Mutex
	fault   fault
	latency time.Duration
	streams map[*stream]struct{}
	stall   chan struct{}  // closed when the current stall ends
	answers map[string]int // requests a fault answered or spoilt, by fault and form
	lists   int            // LIST requests passed through while a fault was on
	calls   int            // every request faulted with a form that alternates
}

// stream is one open response body being copied, a watch's or a stalled one's.
type stream struct {
	watch  bool
	cut    context.CancelFunc
	frozen bool // open when faultStallStreams was switched on; guarded by faultProxy.mu
}

// newFaultProxy starts a proxy to the API server of cfg, stopped at cleanup.
func newFaultProxy(t *testing.T, cfg *rest.Config) *faultProxy {
	t.Helper()
	tlsCfg, err := rest.TLSConfigFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(cfg.Host)
	if err != nil {
		t.Fatal(err)
	}
	// A transport of the proxy's own, not client-go's cached one, whose
	// connections the proxy closes at the end, busy or idle: none is left
	// for the leak check. Closing only the idle ones left one now and then:
	// an HTTP/2 connection whose request the proxy's close had canceled
	// stays busy until the API server answers a PING.
	dialer := &conntrack.Dialer{}
	tr := &http.Transport{TLSClientConfig: tlsCfg, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 100, DialContext: dialer.DialContext}
	rt, err := rest.HTTPWrappersForConfig(cfg, tr)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{upstream: u, rt: rt, closeRT: func() { tr.CloseIdleConnections(); dialer.Close() },
		streams: map[*stream]struct{}{}, answers: map[string]int{}}
	p.srv = httptest.NewServer(p)
	t.Cleanup(p.close)
	return p
}

// close ends every stream, stops the server and closes the upstream
// connections; it may be called more than once.
func (p *faultProxy) close() {
	p.closeOnce.Do(func() {
		p.set(faultNone)
		p.mu.Lock()
		if p.stall != nil {
			close(p.stall)
		}
		p.mu.Unlock()
		p.cutStreams(false)
		p.srv.CloseClientConnections()
		p.srv.Close()
		p.closeRT()
	})
}

// set switches to fault f (faultNone clears). Switching on drop, 429, 410
// or 500 cuts the open watches first (a server that fails ends the watches
// it was serving, and the fault bites only requests made after it); a
// stall freezes them where they are.
func (p *faultProxy) set(f fault) {
	p.mu.Lock()
	p.fault = f
	if (f == faultStall || f == faultStallStreams) && p.stall == nil {
		p.stall = make(chan struct{}) // closed by close alone
	}
	p.mu.Unlock()
	switch f {
	case faultDropWatches, faultTooMany, faultGone, faultServerError:
		p.cutStreams(true)
	case faultStallStreams:
		p.mu.Lock()
		for s := range p.streams {
			s.frozen = true
		}
		p.mu.Unlock()
	}
}

// cutStreams cuts the open watch streams (every stream when watchOnly is false).
func (p *faultProxy) cutStreams(watchOnly bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for s := range p.streams {
		if s.watch || !watchOnly {
			s.cut()
			p.answers["cut"]++
		}
	}
}

// kubeconfig writes a kubeconfig whose only context, local-1-faulty, reaches
// the API server through the proxy, and returns its REST config as a user's
// kubeconfig would give it.
func (p *faultProxy) kubeconfig(t *testing.T) *rest.Config {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["faulty"] = &clientcmdapi.Cluster{Server: p.srv.URL}
	kc.AuthInfos["proxied"] = &clientcmdapi.AuthInfo{} // the proxy presents the client certificate
	kc.Contexts["local-1-faulty"] = &clientcmdapi.Context{Cluster: "faulty", AuthInfo: "proxied"}
	kc.CurrentContext = "local-1-faulty"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.UserAgent = "vigil-faults"
	return cfg
}

// count records that a fault answered or spoilt a request, in form what
// ("429-status", "410-event", …).
func (p *faultProxy) count(what string) {
	p.mu.Lock()
	p.answers[what]++
	p.mu.Unlock()
}

// counts returns how many requests or streams each fault answered, cut or
// spoilt, by form, and how many LISTs passed while a fault was on.
func (p *faultProxy) counts() (map[string]int, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for k, v := range p.answers {
		out[k] = v
	}
	return out, p.lists
}

func isWatch(r *http.Request) bool {
	w := r.URL.Query().Get("watch")
	return w == "true" || w == "1" || strings.Contains(r.URL.Path, "/watch/")
}

// status writes a metav1.Status as the API server writes it.
func status(w http.ResponseWriter, code int, reason, message string, retryAfter int) {
	w.Header().Set("Content-Type", "application/json")
	details := ""
	if retryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(retryAfter))
		details = fmt.Sprintf(`,"details":{"retryAfterSeconds":%d}`, retryAfter)
	}
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":%q,"reason":%q%s,"code":%d}`+"\n",
		message, reason, details, code)
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	watch := isWatch(r)
	p.mu.Lock()
	f, latency := p.fault, p.latency
	var stall chan struct{}
	if f == faultStall {
		stall = p.stall
	}
	if f != faultNone && !watch && r.Method == http.MethodGet {
		p.lists++
	}
	p.calls++
	odd := p.calls%2 == 1
	p.mu.Unlock()

	switch f {
	case faultLatency:
		p.count("latency-request")
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return
		}
	case faultTooMany:
		if odd {
			p.count("429-status")
			status(w, http.StatusTooManyRequests, "TooManyRequests", "Too many requests, please try again later.", 1)
		} else {
			// k8s.io/apiserver's tooManyRequests, which API Priority and
			// Fairness calls when it rejects a request.
			p.count("429-text")
			w.Header().Set("Retry-After", "1")
			http.Error(w, "Too many requests, please try again later.", http.StatusTooManyRequests)
		}
		return
	case faultServerError:
		p.count("500")
		status(w, http.StatusInternalServerError, "InternalError", "Internal error occurred: injected by the fault proxy", 0)
		return
	case faultGone:
		if !watch {
			break
		}
		const msg = "too old resource version: 1 (2)"
		if odd {
			p.count("410-http")
			status(w, http.StatusGone, "Expired", msg, 0)
			return
		}
		p.count("410-event")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		fmt.Fprintf(w, `{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":%q,"reason":"Expired","code":410}}`+"\n", msg)
		return
	}
	p.forward(w, r, watch, f, stall, latency)
}

// hopHeaders are the hop-by-hop headers a proxy does not forward.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// forward passes r to the API server and copies the answer back, flushing
// as it goes (a watch is a stream). A cut stream aborts the connection
// mid-body; a stalled one holds the body back after the headers.
func (p *faultProxy) forward(w http.ResponseWriter, r *http.Request, watch bool, f fault, stall chan struct{}, latency time.Duration) {
	ctx, cut := context.WithCancel(r.Context())
	defer cut()
	out := r.Clone(ctx)
	out.RequestURI, out.Host = "", ""
	out.URL.Scheme, out.URL.Host = p.upstream.Scheme, p.upstream.Host
	for _, h := range hopHeaders {
		out.Header.Del(h)
	}
	if r.ContentLength == 0 {
		out.Body = nil
	}
	s := &stream{watch: watch, cut: cut}
	p.mu.Lock()
	p.streams[s] = struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.streams, s)
		p.mu.Unlock()
	}()
	if watch && f == faultDropWatches {
		// A watch opened during the fault is cut a moment later, after
		// whatever the server sent at once.
		t := time.AfterFunc(300*time.Millisecond, func() {
			p.count("drop-watches")
			cut()
		})
		defer t.Stop()
	}
	res, err := p.rt.RoundTrip(out)
	if err != nil {
		if ctx.Err() != nil {
			panic(http.ErrAbortHandler)
		}
		status(w, http.StatusBadGateway, "InternalError", "fault proxy: "+err.Error(), 0)
		return
	}
	defer res.Body.Close()
	for _, h := range hopHeaders {
		res.Header.Del(h)
	}
	for k, vv := range res.Header {
		w.Header()[k] = vv
	}
	w.WriteHeader(res.StatusCode)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	if stall != nil {
		p.count("stall-request")
		p.hold(ctx, stall)
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		if n > 0 {
			switch f, stall = p.now(s); f {
			case faultStall, faultStallStreams:
				p.count(f.String() + "-chunk")
				p.hold(ctx, stall)
			case faultLatency:
				// The stream's next bytes come late too, not only new requests.
				p.count("latency-stream")
				select {
				case <-time.After(latency):
				case <-ctx.Done():
				}
			}
			if _, werr := w.Write(buf[:n]); werr != nil {
				panic(http.ErrAbortHandler)
			}
			_ = rc.Flush()
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			// Cut, stalled or failed: the client sees the connection end
			// mid-body, not a clean end of stream.
			panic(http.ErrAbortHandler)
		}
	}
}

// now returns the fault switched on, as it applies to stream s (a stream
// that faultStallStreams did not freeze flows), and the stall's channel.
func (p *faultProxy) now(s *stream) (fault, chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fault == faultStallStreams && !s.frozen {
		return faultNone, nil
	}
	return p.fault, p.stall
}

// hold waits until the proxy closes or the client gives up, then cuts
// the connection: a stalled connection is never resumed.
func (p *faultProxy) hold(ctx context.Context, stall chan struct{}) {
	select {
	case <-stall:
	case <-ctx.Done():
	}
	panic(http.ErrAbortHandler)
}
