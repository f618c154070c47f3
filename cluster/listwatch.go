package cluster

import (
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
