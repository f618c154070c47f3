package cluster

import (
	"net/http"
	"strings"

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
// out, or the start-up grace has passed). At
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
type holdWatches struct {
	next  http.RoundTripper
	until <-chan struct{}
}

func (h holdWatches) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.Contains(r.URL.RawQuery, "watch=") && r.URL.Query().Get("watch") == "true" {
		select {
		case <-h.until:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return h.next.RoundTrip(r)
}

// WrappedRoundTripper lets client-go's debugging and cancellation helpers see through.
func (h holdWatches) WrappedRoundTripper() http.RoundTripper { return h.next }
