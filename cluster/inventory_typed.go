package cluster

import (
	"context"
	"fmt"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"

	"github.com/vigil-k8s/vigil/checks"
)

// typedLister lists built-in kinds as protobuf into client-go's typed list objects, the way
// a session's informers do: decoding 10k pods from JSON into unstructured maps and
// converting them costs several times the CPU.
type typedLister struct {
	cfg *rest.Config

	mu      sync.Mutex
	clients map[schema.GroupVersion]rest.Interface
}

func newTypedLister(cfg *rest.Config) (*typedLister, error) {
	c := rest.CopyConfig(cfg)
	c.ContentType = "application/vnd.kubernetes.protobuf"
	c.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	c.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
	return &typedLister{cfg: c, clients: map[schema.GroupVersion]rest.Interface{}}, nil
}

// client returns (and caches) the REST client of gv.
func (t *typedLister) client(gv schema.GroupVersion) (rest.Interface, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.clients[gv]; ok {
		return c, nil
	}
	cfg := rest.CopyConfig(t.cfg)
	cfg.GroupVersion = &gv
	cfg.APIPath = "/apis"
	if gv.Group == "" {
		cfg.APIPath = "/api"
	}
	c, err := rest.RESTClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("REST client for %s: %w", gv, err)
	}
	t.clients[gv] = c
	return c, nil
}

// list lists one page of k (in ns when namespaced) into its typed list object.
func (t *typedLister) list(ctx context.Context, k checks.Kind, gvr schema.GroupVersionResource, ns string, opts metav1.ListOptions) (runtime.Object, error) {
	gv := gvr.GroupVersion()
	into, err := scheme.Scheme.New(gv.WithKind(k.Kind + "List"))
	if err != nil {
		return nil, fmt.Errorf("list %s: no typed list: %w", k.Key(), err)
	}
	c, err := t.client(gv)
	if err != nil {
		return nil, err
	}
	req := c.Get().Resource(gvr.Resource).VersionedParams(&opts, scheme.ParameterCodec)
	if k.Namespaced() && ns != "" {
		req = req.Namespace(ns)
	}
	if err := req.Do(ctx).Into(into); err != nil {
		return nil, err
	}
	return into, nil
}
