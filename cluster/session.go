// Package cluster is vigil's only door to the Kubernetes API for reading
// (actions/ writes): it resolves kube contexts, runs one Session of
// namespace-scoped informers per context, polls metrics, Prometheus and
// Alertmanager, and publishes immutable estate.Snapshots, which package
// estate derives from the objects the informers hold.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"

	vpaclient "k8s.io/autoscaler/vertical-pod-autoscaler/pkg/client/clientset/versioned"

	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/estate"
)

// Options configure a Session. RESTConfig or Client must be set.
type Options struct {
	// RESTConfig is the connection to use; its UserAgent should already be set.
	RESTConfig *rest.Config
	// Client, when set, is used instead of a client built from RESTConfig
	// (tests may pass their own, e.g. a fake clientset for pure unit tests).
	Client kubernetes.Interface
	// Context names the kube context; it is copied into every Snapshot.
	Context string
	// Namespaces are the namespaces to watch. When empty,
	// Settings.Namespaces are used, or the namespaces matching
	// Settings.NamespaceSelector (resolved at Start).
	Namespaces []string
	// Settings are the context's settings from config.Config.For: alert
	// endpoints, alert label mapping, namespace selector.
	Settings config.Settings
	// WrapConfig, when set, wraps the REST config before any client is
	// built (read-only mode passes cluster/readonly.WrapConfig).
	WrapConfig func(*rest.Config) *rest.Config
	// WrapClient, when set, wraps the HTTP client of Prometheus and
	// Alertmanager (read-only mode passes cluster/readonly.WrapClient).
	WrapClient func(*http.Client) *http.Client
	// UsageInterval is how often metrics.k8s.io is polled; default 15s.
	UsageInterval time.Duration
	// AlertsInterval is how often Prometheus and Alertmanager are polled;
	// default 15s. Failures back off up to MaxAlertsBackoff.
	AlertsInterval time.Duration
	// MaxAlertsBackoff caps the retry delay after failures; default 2m.
	MaxAlertsBackoff time.Duration
	// Generation tells this session's snapshots from an earlier session's
	// after a context switch; 0 means 1.
	Generation uint64
	// MinBuildInterval bounds the snapshot rate; default 100ms (10 builds/s).
	MinBuildInterval time.Duration
	// ChecksInterval is how often, at most, the check catalogue is
	// evaluated again after objects change; default DefaultChecksInterval.
	// An evaluation that takes longer than a ChecksSpacing-th of it spaces
	// the next by ChecksSpacing times its own time instead.
	// The findings are published with the snapshots (Snapshot.Findings).
	ChecksInterval time.Duration
	// ChecksSpacing is how many evaluation times pass between two
	// evaluations at least; 0 means DefaultChecksSpacing, a negative value
	// none (then ChecksInterval alone decides).
	ChecksSpacing int
	// StartGrace bounds how long, at start-up, the session waits for every
	// cache to list before it publishes partial models anyway; default 2s.
	// Watches and usage polls wait on for the lists, ChecksInterval longer
	// at most.
	StartGrace time.Duration
	// Heartbeat is how often the session checks the API server is reachable
	// while no watch event arrives; default 10s.
	Heartbeat time.Duration
	// Rescan is how often the session asks discovery again and tries
	// refused kinds again (each with its own backoff, from Rescan up to 5
	// minutes); default DefaultRescan.
	Rescan time.Duration
	// RequestTimeout bounds each request Start waits on (the namespaces'
	// GETs, the rules and access reviews): a server that accepts the
	// connection but never answers must not hold a start or a context
	// switch; default DefaultRequestTimeout.
	RequestTimeout time.Duration
	// WatchIdle ends a watch that has received nothing for this long, not
	// even one of the API server's bookmarks (its watch cache sends one
	// about every minute), and the informer watches again: a stream that
	// stalled while new requests work would otherwise hold its kind's
	// changes back for good; default DefaultWatchIdle.
	WatchIdle time.Duration
	// Logger receives diagnostics; default slog.Default().
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Session watches one kube context's namespaces and publishes Snapshots.
// Create it with New, then Start it once and Stop it when done.
type Session struct {
	opts      Options
	client    kubernetes.Interface
	reviews   kubernetes.Interface // unthrottled, for SelfSubjectAccessReviews
	dyn       dynamic.Interface
	meta      metadata.Interface
	vpa       vpaclient.Interface
	metrics   metricsclient.Interface
	discovery discovery.DiscoveryInterface
	log       *slog.Logger
	conn      connTracker
	access    accessCache
	slim      *slimmer // the informers' transform and its intern pool
	dirty     chan struct{}
	probe     chan struct{} // a watch failed: probe the connection now
	rescanAsk chan struct{} // a watch found its kind gone: rescan now
	syncedNow chan struct{} // every cache has listed: build now
	// startedUp is closed once the first complete snapshot is published,
	// or when StartGrace has passed without one. Until then the loop
	// publishes no partial models: the start-up lists have the cores to
	// themselves.
	startedUp   chan struct{}
	startUpOnce sync.Once
	// listsOver is closed with the first complete snapshot too, but after
	// the grace only once the lists are in (or at listsBound, if one never
	// ends). Until then watches wait (holdWatches) and usage is not
	// polled: a hundred watch set-ups and a decode of every pod's metrics
	// would take the cores from the lists still decoding (at 30k pods they
	// outlast the grace), and the complete snapshot waits for those.
	listsOver chan struct{}
	listsOnce sync.Once
	watches   openWatches // the informers' watches in flight
	usage     usageState
	alerts    alertsState
	checks    findingsState // guarded by buildMu, but for checks.changed

	begun               time.Time // when Start was called
	startOnce, stopOnce sync.Once
	cancel              context.CancelFunc
	wg                  sync.WaitGroup

	mu         sync.Mutex // guards the fields below
	namespaces []*nsWatch
	cluster    *nsWatch
	served     map[string]bool // "plural.group" → discovery lists it; nil = unknown
	installed  map[string]bool // optional API group → served
	nsNote     string          // why the watched namespaces could not be resolved

	// undiscovered maps the watched resources whose group version could
	// not be discovered to why.
	undiscovered map[string]string

	buildMu  sync.Mutex             // serialises builds (the loop and Rebuild)
	ooms     map[string][]time.Time // OOM kills seen; guarded by buildMu
	podCache *estate.PodCache       // pods' derived values between builds; guarded by buildMu
	subs     map[chan estate.Snapshot]struct{}
	latest   estate.Snapshot
	seq      uint64
	stopped  bool
}

// New checks opts and builds a Session without contacting the API server.
func New(opts Options) (*Session, error) {
	if opts.RESTConfig == nil && opts.Client == nil {
		return nil, errors.New("cluster.New: Options.RESTConfig or Options.Client is required")
	}
	if len(opts.Namespaces) == 0 {
		opts.Namespaces = opts.Settings.Namespaces
	}
	if len(opts.Namespaces) == 0 && opts.Settings.NamespaceSelector == "" {
		return nil, errors.New("cluster.New: no namespaces: set Options.Namespaces or a namespace selector")
	}
	if opts.UsageInterval <= 0 {
		opts.UsageInterval = 15 * time.Second
	}
	if opts.AlertsInterval <= 0 {
		opts.AlertsInterval = 15 * time.Second
	}
	if opts.MaxAlertsBackoff <= 0 {
		opts.MaxAlertsBackoff = 2 * time.Minute
	}
	if opts.WrapConfig != nil && opts.RESTConfig != nil {
		opts.RESTConfig = opts.WrapConfig(rest.CopyConfig(opts.RESTConfig))
	}
	if opts.Generation == 0 {
		opts.Generation = 1
	}
	if opts.MinBuildInterval <= 0 {
		opts.MinBuildInterval = 100 * time.Millisecond
	}
	if opts.ChecksInterval <= 0 {
		opts.ChecksInterval = DefaultChecksInterval
	}
	if opts.ChecksSpacing == 0 {
		opts.ChecksSpacing = DefaultChecksSpacing
	}
	if opts.StartGrace <= 0 {
		opts.StartGrace = 2 * time.Second
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 10 * time.Second
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	if opts.Rescan <= 0 {
		opts.Rescan = DefaultRescan
	}
	if opts.WatchIdle <= 0 {
		opts.WatchIdle = DefaultWatchIdle
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Session{
		opts:  opts,
		log:   opts.Logger.With("context", opts.Context, "generation", opts.Generation),
		dirty: make(chan struct{}, 1), probe: make(chan struct{}, 1), rescanAsk: make(chan struct{}, 1), syncedNow: make(chan struct{}, 1), startedUp: make(chan struct{}), listsOver: make(chan struct{}),
		subs:     map[chan estate.Snapshot]struct{}{},
		podCache: estate.NewPodCache(),
		slim:     newSlimmer(),
	}
	s.access.reviews.Timeout = opts.RequestTimeout
	if opts.Client != nil {
		s.client = opts.Client
		s.discovery = opts.Client.Discovery()
	}
	if opts.RESTConfig != nil {
		// Start lists every resource in every namespace at once: a burst
		// large enough for that keeps client-side throttling out of the
		// time to the first snapshot; afterwards informers only watch.
		opts.RESTConfig = rest.CopyConfig(opts.RESTConfig)
		opts.RESTConfig.QPS = max(opts.RESTConfig.QPS, 100)
		opts.RESTConfig.Burst = max(opts.RESTConfig.Burst, 500)
		opts.RESTConfig.Wrap(func(rt http.RoundTripper) http.RoundTripper {
			return holdWatches{next: rt, until: s.listsOver, open: &s.watches, idle: opts.WatchIdle}
		})
		// Built-in types travel as protobuf: decoding 10k pods from JSON
		// costs several times the CPU. Custom resources (dynamic, VPA) and
		// metrics stay JSON, the only encoding CRDs are served in.
		typedCfg := rest.CopyConfig(opts.RESTConfig)
		typedCfg.ContentType = "application/vnd.kubernetes.protobuf"
		typedCfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
		reviews := rest.CopyConfig(typedCfg)
		reviews.QPS = -1 // access reviews are cheap and cached; never queue them
		rc, err := kubernetes.NewForConfig(reviews)
		if err != nil {
			return nil, fmt.Errorf("context %s: building review client: %w", opts.Context, err)
		}
		s.reviews = rc
		if s.client == nil {
			var c *kubernetes.Clientset
			c, err = kubernetes.NewForConfig(typedCfg)
			if err != nil {
				return nil, fmt.Errorf("context %s: building client: %w", opts.Context, err)
			}
			s.client = c
		}
		if s.dyn, err = dynamic.NewForConfig(opts.RESTConfig); err != nil {
			return nil, fmt.Errorf("context %s: building dynamic client: %w", opts.Context, err)
		}
		if s.meta, err = metadata.NewForConfig(opts.RESTConfig); err != nil {
			return nil, fmt.Errorf("context %s: building metadata client: %w", opts.Context, err)
		}
		if s.vpa, err = vpaclient.NewForConfig(opts.RESTConfig); err != nil {
			return nil, fmt.Errorf("context %s: building VPA client: %w", opts.Context, err)
		}
		polls := rest.CopyConfig(opts.RESTConfig)
		polls.Timeout = 10 * time.Second
		polls.AcceptContentTypes = typedCfg.AcceptContentTypes // metrics-server speaks protobuf; JSON otherwise
		if s.metrics, err = metricsclient.NewForConfig(polls); err != nil {
			return nil, fmt.Errorf("context %s: building metrics client: %w", opts.Context, err)
		}
		// Probes get a short timeout of their own; the watches must not have one.
		probe := rest.CopyConfig(opts.RESTConfig)
		probe.Timeout = 5 * time.Second
		d, err := discovery.NewDiscoveryClientForConfig(probe)
		if err != nil {
			return nil, fmt.Errorf("context %s: building discovery client: %w", opts.Context, err)
		}
		s.discovery = d
	}
	return s, nil
}

// Context returns the kube context the session watches.
func (s *Session) Context() string { return s.opts.Context }

// Generation returns the generation stamped on this session's snapshots.
func (s *Session) Generation() uint64 { return s.opts.Generation }

// Ping asks the API server for its version, to fail fast with a clear reason
// before a UI starts. It returns the server's git version.
func (s *Session) Ping(ctx context.Context) (string, error) {
	type result struct {
		v   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		info, err := s.discovery.ServerVersion()
		if err != nil {
			ch <- result{err: err}
			return
		}
		ch <- result{v: info.GitVersion}
	}()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case r := <-ch:
		if r.err == nil {
			s.conn.ok(s.opts.Now())
		}
		return r.v, r.err
	}
}

// Ready waits until the session's start-up has ended (every cache has
// listed, or Options.StartGrace passed, or the connection failed) or ctx
// ends, and says whether the session can be shown: an error when its API
// server cannot be reached (after Start, a failed health probe), with why.
// A kind that fails alone (a broken aggregated API, a refusal) is that
// kind's state in the snapshots, not an error here.
func (s *Session) Ready(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-s.startedUp:
	}
	if c := s.conn.state(); !c.Connected && c.Reason != "" {
		return errors.New(c.Reason)
	}
	return nil
}

// DefaultWatchIdle is Options.WatchIdle's default: three of the API
// server's bookmark periods.
const DefaultWatchIdle = 3 * time.Minute

// DefaultRequestTimeout is Options.RequestTimeout's default.
const DefaultRequestTimeout = 10 * time.Second

// request bounds one request Start waits on by Options.RequestTimeout.
func (s *Session) request(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.opts.RequestTimeout)
}

// Start checks namespaces and access, starts the informers and the snapshot
// loop, and returns without waiting for the caches to fill. Snapshots flow
// to subscribers until Stop or until ctx ends. Start may be called once.
func (s *Session) Start(ctx context.Context) error {
	err := errors.New("cluster: Session.Start called twice")
	s.startOnce.Do(func() {
		err = nil
		ctx, s.cancel = context.WithCancel(ctx)
		begun := time.Now()
		s.begun = begun
		namespaces := s.resolveNamespaces(ctx)
		cluster, watches := s.startInformers(ctx, begun, namespaces)
		s.log.Debug("start-up: informers started", "after", time.Since(begun))
		s.mu.Lock()
		s.namespaces = watches
		s.cluster = cluster
		s.mu.Unlock()
		s.wg.Add(7)
		go func() { defer s.wg.Done(); s.graceEnds(ctx) }()
		go func() { defer s.wg.Done(); s.loop(ctx) }()
		go func() { defer s.wg.Done(); s.heartbeat(ctx) }()
		go func() { defer s.wg.Done(); s.waitSynced(ctx, begun, append([]*nsWatch{cluster}, watches...)) }()
		go func() { defer s.wg.Done(); s.pollUsage(ctx) }()
		go func() { defer s.wg.Done(); s.pollAlerts(ctx) }()
		go func() { defer s.wg.Done(); s.rescanLoop(ctx) }()
		s.markDirty()
	})
	return err
}

// Stop ends the informers and the loop, waits for their goroutines, and
// closes every subscription channel. It is safe to call more than once.
func (s *Session) Stop() {
	s.stopOnce.Do(func() {
		if s.cancel != nil {
			s.cancel()
		}
		s.wg.Wait()
		s.mu.Lock()
		watches := s.namespaces
		if s.cluster != nil {
			watches = append(watches, s.cluster)
		}
		s.stopped = true
		for ch := range s.subs {
			close(ch)
		}
		s.subs = nil
		s.mu.Unlock()
		for _, w := range watches {
			w.shutdown()
		}
	})
}

// resolveNamespaces returns the namespaces to watch: the configured list,
// or those matching the namespace selector. A selector that cannot be
// resolved leaves a note in the snapshot's Problems.
func (s *Session) resolveNamespaces(ctx context.Context) []string {
	if len(s.opts.Namespaces) > 0 {
		return s.opts.Namespaces
	}
	sel := s.opts.Settings.NamespaceSelector
	rctx, cancel := s.request(ctx)
	defer cancel()
	list, err := s.client.CoreV1().Namespaces().List(rctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		s.mu.Lock()
		s.nsNote = fmt.Sprintf("namespace selector %q: %s", sel, Explain(err))
		s.mu.Unlock()
		return nil
	}
	var out []string
	for _, ns := range list.Items {
		out = append(out, ns.Name)
	}
	if len(out) == 0 {
		s.mu.Lock()
		s.nsNote = fmt.Sprintf("namespace selector %q matches no namespace", sel)
		s.mu.Unlock()
	}
	return out
}

// Subscribe returns a channel that receives the latest snapshot (older ones
// are dropped if the receiver is slow) and a func to unsubscribe. The
// channel is closed by Stop or unsubscribe.
func (s *Session) Subscribe() (<-chan estate.Snapshot, func()) {
	ch := make(chan estate.Snapshot, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		close(ch)
		return ch, func() {}
	}
	s.subs[ch] = struct{}{}
	if s.seq > 0 {
		ch <- s.latest
	}
	return ch, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.subs[ch]; ok {
			delete(s.subs, ch)
			close(ch)
		}
	}
}

// Latest returns the last published snapshot; ok is false before the first.
func (s *Session) Latest() (snap estate.Snapshot, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latest, s.seq > 0
}

// markDirty asks the loop for a new snapshot; it never blocks, so informer
// handlers stay cheap.
func (s *Session) markDirty() {
	select {
	case s.dirty <- struct{}{}:
	default:
	}
}

// loop is the one place snapshots are built: it coalesces dirty marks and
// builds at most once per interval, so builds never overlap. The interval
// adapts: it is MinBuildInterval or buildSpacing times the last build's
// duration, whichever is longer, so builds take at most 1/buildSpacing of a
// core however fast events arrive. The build after every cache has first
// listed does not wait: it is the first complete snapshot.
func (s *Session) loop(ctx context.Context) {
	refresh := time.NewTicker(15 * time.Second) // time-dependent health ("stuck" pods)
	defer refresh.Stop()
	var last time.Time
	var took time.Duration
	built := false    // the first snapshot, "syncing", is published at once
	complete := false // the first complete snapshot was published
	for {
		now := false
		select {
		case <-ctx.Done():
			return
		case <-refresh.C:
		case <-s.dirty:
		case <-s.syncedNow:
			now = true
		}
		if built && !now && !s.isStartedUp() {
			// While the caches fill, the first snapshot ("syncing", no
			// model: see build) is all: more builds would take CPU from
			// the lists, until every cache has listed or the grace passed.
			continue
		}
		if wait := max(s.opts.MinBuildInterval, buildSpacing*took) - time.Since(last); wait > 0 && !now {
			select {
			case <-ctx.Done():
				return
			case <-s.syncedNow:
				now = true
			case <-time.After(wait):
			}
		}
		select { // this build covers marks made while waiting
		case <-s.dirty:
		default:
		}
		last = time.Now()
		s.buildMu.Lock()
		snap := s.build()
		s.publish(snap)
		built = true
		took = time.Since(last) - s.checks.took // an evaluation's time is not the build's
		s.buildMu.Unlock()
		if snap.Synced && !complete {
			complete = true
			s.endStartUp()
			s.endLists() // now watches and usage polls start
			s.log.Debug("start-up: complete snapshot built", "took", took, "started", last.Sub(s.begun))
		}
	}
}

// graceEnds ends the start-up hold after Options.StartGrace if the caches
// have not all listed by then: a resource that never lists (a broken
// aggregated API, say) must not keep the rest off the screen. Watches and
// usage polls wait on, for the lists or until listsBound: changes of what
// has listed are late by that much at most, never lost (each watch starts
// from its list's resourceVersion).
func (s *Session) graceEnds(ctx context.Context) {
	select {
	case <-ctx.Done():
		return
	case <-s.startedUp:
	case <-time.After(s.opts.StartGrace):
		s.log.Info("start-up: caches still listing after the grace; showing what has listed", "grace", s.opts.StartGrace)
		s.endStartUp()
		s.markDirty()
	}
	select {
	case <-ctx.Done():
	case <-s.listsOver:
	case <-time.After(time.Until(s.listsBound())):
		s.log.Info("start-up: caches still listing; watching what has listed", "after", time.Since(s.begun))
		s.endLists()
	}
}

// listsBound is when a session whose caches have not all listed stops
// waiting for them: for its watches, usage polls and the check catalogue
// (ChecksInterval past the grace).
func (s *Session) listsBound() time.Time {
	return s.begun.Add(s.opts.StartGrace + s.opts.ChecksInterval)
}

// endStartUp closes startedUp, once.
func (s *Session) endStartUp() { s.startUpOnce.Do(func() { close(s.startedUp) }) }

// endLists closes listsOver, once.
func (s *Session) endLists() { s.listsOnce.Do(func() { close(s.listsOver) }) }

func (s *Session) isStartedUp() bool {
	select {
	case <-s.startedUp:
		return true
	default:
		return false
	}
}

// buildSpacing is how many build durations pass between two loop builds at
// least: a build that takes 20ms is followed by 140ms of rest, bounding the
// loop's share of a core to 1/buildSpacing under any event rate. An eighth
// of a core leaves room, within a quarter of one at 200 pod updates/s, for
// the watches' decoding and the check catalogue's evaluations; builds made
// incremental per workload keep the interval shorter than the fifth it was
// (at 30k pods a build took 133 ms, so one every 665 ms).
const buildSpacing = 8

func (s *Session) publish(snap estate.Snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	s.seq++
	snap.Seq = s.seq
	s.latest = snap
	for ch := range s.subs {
		select { // keep only the newest snapshot in the buffer
		case <-ch:
		default:
		}
		ch <- snap
	}
}

// probeNow asks the heartbeat for a health probe at once (a watch
// failed); asks made while one is pending are one.
func (s *Session) probeNow() {
	select {
	case s.probe <- struct{}{}:
	default:
	}
}

// heartbeat is where the connection state comes from: it probes the API
// server (GET /version, with the probe client's deadline) every Heartbeat
// and whenever a watch fails, re-checks namespaces that were missing, and
// reads the failing resources again.
func (s *Session) heartbeat(ctx context.Context) {
	t := time.NewTicker(s.opts.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.probe:
		}
		if _, err := s.discovery.ServerVersion(); err != nil {
			if s.conn.fail(Explain(err)) {
				s.log.Warn("api server unreachable", "err", err)
				s.markDirty()
			}
			// A failing connection will not list soon: show it now rather
			// than after the start-up grace.
			s.endStartUp()
			continue
		}
		if s.conn.ok(s.opts.Now()) {
			s.log.Info("api server reachable again")
		}
		if s.conn.takeDoubt() {
			// A watch open across the failure may be stalled for good
			// and would say nothing: watch again (openWatches).
			if n := s.watches.cutAll(); n > 0 {
				s.log.Info("connection was lost: watching again", "watches", n)
			}
		}
		// Publish the fresh contact time even when nothing else changed, so
		// the data age a UI shows stays honest on a quiet cluster.
		s.markDirty()
		s.mu.Lock()
		watches, cluster := s.namespaces, s.cluster
		s.mu.Unlock()
		for _, w := range watches {
			if w.isMissing() && s.recheckNamespace(ctx, w) {
				s.markDirty()
			}
		}
		if cluster != nil {
			watches = append(slices.Clone(watches), cluster)
		}
		for _, w := range watches {
			s.recheckFailing(ctx, w)
		}
	}
}

// recheckFailing reads each failing resource of w again (one object,
// metadata only) and forgets the failure when that works and the
// resource's informer has listed: a kind with no objects sends no event
// that would say it is readable again.
func (s *Session) recheckFailing(ctx context.Context, w *nsWatch) {
	if s.meta == nil {
		return
	}
	for res := range w.failingNow() {
		r, ok := kindByKey[res]
		inf := w.informer(res)
		if !ok || inf == nil || !inf.HasSynced() {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := s.listOne(pctx, r, w.name)
		cancel()
		if err == nil && w.recovered(res) {
			s.log.Info("resource readable again", "namespace", w.name, "resource", res)
			s.markDirty()
		}
	}
}

// listOne lists one object's metadata of r in ns ("" for every namespace,
// or r is cluster-scoped): whether the API server lets r be read now,
// answered as it would answer an informer's list. s.meta must be set.
func (s *Session) listOne(ctx context.Context, r resource, ns string) error {
	ri := s.meta.Resource(r.GVR())
	list := ri.List
	if r.Namespaced() && ns != "" {
		list = ri.Namespace(ns).List
	}
	_, err := list(ctx, metav1.ListOptions{Limit: 1})
	return err
}

// Rebuild builds and publishes a snapshot now, outside the coalescing loop's
// schedule, and returns it: for a UI's explicit refresh, and to measure a
// build. Unlike the loop's builds it derives every pod again rather than
// reusing what earlier builds derived from unchanged pods. It may overlap a
// loop build; both publish complete snapshots.
func (s *Session) Rebuild() estate.Snapshot {
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	s.podCache = estate.NewPodCache()
	snap := s.build()
	s.publish(snap)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latest
}
