package cluster

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"

	vpaclient "k8s.io/autoscaler/vertical-pod-autoscaler/pkg/client/clientset/versioned"
)

// The clients below make the Session's informers start with a LIST (from
// the API server's watch cache) and then watch, instead of streaming the
// initial list over a watch (client-go's WatchListClient, on by default
// since 1.35). A streamed list counts as synced only when the API server's
// "initial events end" bookmark arrives, and the watch cache sends
// bookmarks on a timer of about a second (jittered 0.75–1.25 s, per
// resource type): with it every informer's first sync waited for that tick,
// and the first complete snapshot with them, for lists that take a few
// hundred milliseconds. Namespace-scoped lists of the size vigil asks for
// are cheap for the API server either way. See
// watchlist.DoesClientNotSupportWatchListSemantics in client-go.

type listThenWatch struct{ kubernetes.Interface }

func (listThenWatch) IsWatchListSemanticsUnSupported() bool { return true }

type metadataListThenWatch struct{ metadata.Interface }

func (metadataListThenWatch) IsWatchListSemanticsUnSupported() bool { return true }

type dynamicListThenWatch struct{ dynamic.Interface }

func (dynamicListThenWatch) IsWatchListSemanticsUnSupported() bool { return true }

type vpaListThenWatch struct{ vpaclient.Interface }

func (vpaListThenWatch) IsWatchListSemanticsUnSupported() bool { return true }

// holdWatches holds the Session's watch requests back until its start-up is
// over (until: every cache has listed and the first complete snapshot is
// out, or Session.listsBound has passed). At
// start-up a Session lists about a hundred resource/namespace pairs; each
// informer opens its watch as soon as its own list is in, and on a busy
// API server those hundred watch set-ups compete with the large lists
// still in flight (measured at 10k pods: bare client-go informers of every
// kind synced in 397 ms, 287 ms with their watches held; the bare LIST of
// the same objects took 305 ms). Nothing is missed: each watch starts from
// its list's resourceVersion, and the watch cache replays what changed in
// between (if that were ever too old, the informer lists again). Held
// until the first snapshot is built, the hundred watch set-ups do not take
// the cores from that build either.
//
// It also records every watch in flight in open, so that the Session can
// end them when the connection was lost (see openWatches), and ends a
// watch that has received nothing for idle (0: never).
type holdWatches struct {
	next  http.RoundTripper
	until <-chan struct{}
	open  *openWatches
	idle  time.Duration
}

func (h holdWatches) RoundTrip(r *http.Request) (*http.Response, error) {
	if !strings.Contains(r.URL.RawQuery, "watch=") || r.URL.Query().Get("watch") != "true" {
		return h.next.RoundTrip(r)
	}
	select {
	case <-h.until:
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	if h.open == nil {
		return h.next.RoundTrip(r)
	}
	ctx, cancel := context.WithCancel(r.Context())
	done := h.open.add(cancel)
	resp, err := h.next.RoundTrip(r.WithContext(ctx))
	if err != nil {
		done()
		return nil, err
	}
	resp.Body = newWatchBody(resp.Body, done, h.idle)
	return resp, nil
}

// WrappedRoundTripper lets client-go's debugging and cancellation helpers see through.
func (h holdWatches) WrappedRoundTripper() http.RoundTripper { return h.next }

// openWatches are a Session's watch requests in flight. A watch whose
// connection stalled (a half-open TCP connection, a proxy or middlebox that
// stopped forwarding but still acknowledges) never ends by itself: the
// informer waits on it forever and every later change of its kind is lost,
// while new requests (the health probe) work and the session says
// connected. So once the health probe has failed, the next probe that
// succeeds ends every watch then open (cutAll); each informer watches
// again from the last resourceVersion it saw (or lists again), which
// costs the server little when the old watches were healthy after all.
type openWatches struct {
	mu   sync.Mutex
	seq  uint64
	open map[uint64]context.CancelFunc
}

// add records a watch's cancel func and returns the func that forgets and
// cancels it (idempotent), called when its body is closed.
func (o *openWatches) add(cancel context.CancelFunc) (done func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.open == nil {
		o.open = map[uint64]context.CancelFunc{}
	}
	o.seq++
	id := o.seq
	o.open[id] = cancel
	return func() {
		o.mu.Lock()
		delete(o.open, id)
		o.mu.Unlock()
		cancel()
	}
}

// cutAll cancels every open watch and returns how many there were.
func (o *openWatches) cutAll() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := len(o.open)
	for id, cancel := range o.open {
		cancel()
		delete(o.open, id)
	}
	return n
}

// watchBody is a watch's response body that forgets the watch when
// closed, and ends it (done) when nothing arrives for idle: a stream can
// stall while the connection's other requests work (a stalled HTTP/2
// stream, a half-open HTTP/1.1 connection), which neither the health probe
// nor the transport notices.
type watchBody struct {
	io.ReadCloser
	once  sync.Once
	done  func()
	idle  time.Duration
	timer *time.Timer
}

func newWatchBody(body io.ReadCloser, done func(), idle time.Duration) *watchBody {
	b := &watchBody{ReadCloser: body, done: done, idle: idle}
	if idle > 0 {
		b.timer = time.AfterFunc(idle, done) // done is idempotent
	}
	return b
}

func (b *watchBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 && b.timer != nil {
		b.timer.Reset(b.idle)
	}
	return n, err
}

func (b *watchBody) Close() error {
	if b.timer != nil {
		b.timer.Stop()
	}
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}
