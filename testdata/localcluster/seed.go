package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// seedManager is the field manager of everything the seeder applies.
const seedManager = "localcluster-seed"

var (
	crdGK = schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}
	nsGK  = schema.GroupKind{Kind: "Namespace"}
	crdGR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
)

// doc is one YAML document of a manifest file.
type doc struct {
	file string
	obj  *unstructured.Unstructured
}

func (d doc) String() string {
	return fmt.Sprintf("%s %s/%s (%s)", d.obj.GetKind(), d.obj.GetNamespace(), d.obj.GetName(), filepath.Base(d.file))
}

// seedAll seeds every cluster concurrently.
func seedAll(ctx context.Context, manifests string, clusters []*cluster) error {
	if st, err := os.Stat(manifests); err != nil || !st.IsDir() {
		return fmt.Errorf("--seed: manifests folder %s not found (pass --manifests)", manifests)
	}
	errs := make([]error, len(clusters))
	var wg sync.WaitGroup
	for i, c := range clusters {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = seedCluster(ctx, manifests, c) }()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// manifestFiles lists <root>/all/<sub>/*.yaml then <root>/<cluster>/<sub>/*.yaml,
// each sorted, or (rollouts) merged by file name.
func manifestFiles(root, cluster, sub string, merge bool) ([]string, error) {
	var files []string
	for _, d := range []string{"all", cluster} {
		for _, ext := range []string{"*.yaml", "*.yml"} {
			m, err := filepath.Glob(filepath.Join(root, d, sub, ext))
			if err != nil {
				return nil, err
			}
			sort.Strings(m)
			files = append(files, m...)
		}
	}
	if merge {
		sort.SliceStable(files, func(i, j int) bool { return filepath.Base(files[i]) < filepath.Base(files[j]) })
	}
	return files, nil
}

// readDocs decodes every non-empty document of file; a List is expanded.
func readDocs(file string) ([]doc, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []doc
	for i := 1; ; i++ {
		var m map[string]any
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", file, i, err)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetKind() == "" || u.GetAPIVersion() == "" {
			return nil, fmt.Errorf("%s: document %d has no kind or apiVersion", file, i)
		}
		if u.IsList() {
			err := u.EachListItem(func(o runtime.Object) error {
				out = append(out, doc{file: file, obj: o.(*unstructured.Unstructured)})
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("%s: document %d: %w", file, i, err)
			}
			continue
		}
		out = append(out, doc{file: file, obj: u})
	}
}

// seeder applies documents to one cluster.
type seeder struct {
	c       *cluster
	dyn     dynamic.Interface
	mapper  *restmapper.DeferredDiscoveryRESTMapper
	crdKind map[schema.GroupKind]bool
}

// seedCluster applies the manifests of one cluster: CRDs, Namespaces, the
// rest, custom resource status, then rollouts one file at a time. A digest
// of the files is kept in DIR/local-N/seed.sha256: an unchanged seed on a
// resumed DIR is skipped, since re-applying base manifests would roll the
// rollout Deployments back and forth.
func seedCluster(ctx context.Context, root string, c *cluster) error {
	start := time.Now()
	files, err := manifestFiles(root, c.spec.name, "", false)
	if err != nil {
		return err
	}
	rollouts, err := manifestFiles(root, c.spec.name, "rollouts", true)
	if err != nil {
		return err
	}
	digest, err := digestFiles(append(append([]string{}, files...), rollouts...))
	if err != nil {
		return err
	}
	digestFile := filepath.Join(c.spec.dir, "seed.sha256")
	if old, readErr := os.ReadFile(digestFile); readErr == nil && string(old) == digest {
		logf("%s: seed unchanged since last run, not re-applied", c.spec.name)
		return nil
	}
	var docs []doc
	for _, f := range files {
		d, docsErr := readDocs(f)
		if docsErr != nil {
			return docsErr
		}
		docs = append(docs, d...)
	}
	s, err := newSeeder(c)
	if err != nil {
		return err
	}
	var crds, nss, rest []doc
	for _, d := range docs {
		switch d.obj.GroupVersionKind().GroupKind() {
		case crdGK:
			crds = append(crds, d)
		case nsGK:
			nss = append(nss, d)
		default:
			rest = append(rest, d)
		}
	}
	var errs []error
	for _, d := range crds {
		errs = append(errs, s.apply(ctx, d))
	}
	if err := s.waitEstablished(ctx, crds); err != nil {
		return fmt.Errorf("%s: %w", c.spec.name, err)
	}
	for _, d := range nss {
		errs = append(errs, s.apply(ctx, d))
	}
	first, second := splitByKind(rest)
	errs = append(errs, s.applyAll(ctx, first), s.applyAll(ctx, second))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s: seed: %w", c.spec.name, err)
	}
	for _, f := range rollouts {
		if err := s.rollout(ctx, f); err != nil {
			return fmt.Errorf("%s: %w", c.spec.name, err)
		}
	}
	if err := os.WriteFile(digestFile, []byte(digest), 0o644); err != nil {
		return err
	}
	logf("%s: seeded %d objects (%d CRDs, %d namespaces, %d rollout files) in %.1fs",
		c.spec.name, len(docs), len(crds), len(nss), len(rollouts), time.Since(start).Seconds())
	return nil
}

// earlyKinds are applied before the workloads that use them, so no pod
// waits on a missing ServiceAccount, Secret, claim or quota.
var earlyKinds = map[string]bool{
	"ServiceAccount": true, "Secret": true, "ConfigMap": true, "StorageClass": true,
	"PersistentVolume": true, "PersistentVolumeClaim": true, "PriorityClass": true,
	"ResourceQuota": true, "LimitRange": true, "Role": true, "ClusterRole": true,
	"RoleBinding": true, "ClusterRoleBinding": true,
}

func splitByKind(docs []doc) (first, second []doc) {
	for _, d := range docs {
		if earlyKinds[d.obj.GetKind()] {
			first = append(first, d)
		} else {
			second = append(second, d)
		}
	}
	return first, second
}

// applyAll applies docs with a few concurrent workers; their order does not
// matter to the API server.
func (s *seeder) applyAll(ctx context.Context, docs []doc) error {
	const workers = 6
	errs := make([]error, len(docs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = s.apply(ctx, docs[i])
			}
		}()
	}
	for i := range docs {
		next <- i
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}

func digestFiles(files []string) (string, error) {
	h := sha256.New()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.Base(f), len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func newSeeder(c *cluster) (*seeder, error) {
	cfg := rest.CopyConfig(c.harness)
	cfg.UserAgent = seedManager
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &seeder{
		c: c, dyn: dyn,
		mapper:  restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)),
		crdKind: map[schema.GroupKind]bool{},
	}, nil
}

// resource maps a document to its REST resource, namespace defaulted.
func (s *seeder) resource(d doc) (dynamic.ResourceInterface, error) {
	gvk := d.obj.GroupVersionKind()
	m, err := s.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("%s: unknown kind %s: %w", d, gvk, err)
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ns := d.obj.GetNamespace()
		if ns == "" {
			ns = "default"
			d.obj.SetNamespace(ns)
		}
		return s.dyn.Resource(m.Resource).Namespace(ns), nil
	}
	return s.dyn.Resource(m.Resource), nil
}

// apply server-side applies one document and, for a custom resource that
// carries status, writes that status through the status subresource.
func (s *seeder) apply(ctx context.Context, d doc) error {
	ri, err := s.resource(d)
	if err != nil {
		return err
	}
	opts := metav1.ApplyOptions{FieldManager: seedManager, Force: true}
	if _, err = ri.Apply(ctx, d.obj.GetName(), d.obj, opts); err != nil {
		return fmt.Errorf("apply %s: %w", d, err)
	}
	status, hasStatus := d.obj.Object["status"]
	if !hasStatus || !s.crdKind[d.obj.GroupVersionKind().GroupKind()] {
		return nil
	}
	st := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": d.obj.GetAPIVersion(), "kind": d.obj.GetKind(),
		"metadata": map[string]any{"name": d.obj.GetName(), "namespace": d.obj.GetNamespace()},
		"status":   status,
	}}
	_, err = ri.ApplyStatus(ctx, d.obj.GetName(), st, opts)
	if apierrors.IsNotFound(err) {
		// No status subresource: the status went in with the object.
		return nil
	}
	if err != nil {
		return fmt.Errorf("apply status of %s: %w", d, err)
	}
	return nil
}

// waitEstablished waits for the CRDs to be Established, then refreshes the
// REST mapper and remembers which kinds are custom resources.
func (s *seeder) waitEstablished(ctx context.Context, crds []doc) error {
	for _, d := range crds {
		name := d.obj.GetName()
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
			u, err := s.dyn.Resource(crdGR).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			for _, c := range conds {
				m, _ := c.(map[string]any)
				if m["type"] == "Established" && m["status"] == "True" {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			return fmt.Errorf("CRD %s not Established: %w", name, err)
		}
	}
	list, err := s.dyn.Resource(crdGR).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list CRDs: %w", err)
	}
	for _, u := range list.Items {
		g, _, _ := unstructured.NestedString(u.Object, "spec", "group")
		k, _, _ := unstructured.NestedString(u.Object, "spec", "names", "kind")
		s.crdKind[schema.GroupKind{Group: g, Kind: k}] = true
	}
	// Established does not mean discovery lists the kind yet: the apiserver
	// publishes a new group's discovery document asynchronously, later under
	// load ("unknown kind VerticalPodAutoscalerCheckpoint" seeding local-2 at
	// load 20). Wait until the REST mapper resolves every CRD's kind.
	for _, d := range crds {
		var gk schema.GroupKind
		if g, _, _ := unstructured.NestedString(d.obj.Object, "spec", "group"); g != "" {
			k, _, _ := unstructured.NestedString(d.obj.Object, "spec", "names", "kind")
			gk = schema.GroupKind{Group: g, Kind: k}
		}
		if gk.Kind == "" {
			continue
		}
		var mapErr error
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 60*time.Second, true, func(context.Context) (bool, error) {
			s.mapper.Reset()
			_, mapErr = s.mapper.RESTMapping(gk)
			return mapErr == nil, nil
		})
		if err != nil {
			return fmt.Errorf("CRD %s established but discovery does not serve %s: %v", d.obj.GetName(), gk, mapErr)
		}
	}
	return nil
}

// rollout applies one rollouts file and waits until the deployment
// controller has observed every Deployment in it.
func (s *seeder) rollout(ctx context.Context, file string) error {
	docs, err := readDocs(file)
	if err != nil {
		return err
	}
	for _, d := range docs {
		if err := s.apply(ctx, d); err != nil {
			return err
		}
	}
	for _, d := range docs {
		if d.obj.GetKind() != "Deployment" {
			continue
		}
		ri, err := s.resource(d)
		if err != nil {
			return err
		}
		err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
			u, getErr := ri.Get(ctx, d.obj.GetName(), metav1.GetOptions{})
			if getErr != nil {
				return false, nil
			}
			observed, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
			return observed >= u.GetGeneration(), nil
		})
		if err != nil {
			return fmt.Errorf("rollout %s: %s not observed: %w", filepath.Base(file), d, err)
		}
	}
	logf("%s: rollout %s applied", s.c.spec.name, strings.TrimSuffix(filepath.Base(file), filepath.Ext(file)))
	return nil
}
