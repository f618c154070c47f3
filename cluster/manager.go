package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"

	"github.com/vigil-k8s/vigil/cluster/readonly"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/estate"
)

// ManagerOptions configure a Manager.
type ManagerOptions struct {
	// Flags are kubectl's connection flags (--kubeconfig, --context, ...).
	// The Manager copies them and changes only its copy's context; it never
	// writes the kubeconfig.
	Flags *genericclioptions.ConfigFlags
	// Config is vigil's configuration; each context's Settings come from
	// Config.For(context).
	Config config.Config
	// Namespaces, when set (--namespaces), override the config's for every context.
	Namespaces []string
	// UserAgent is sent with every request.
	UserAgent string
	// Logger receives diagnostics; default slog.Default().
	Logger *slog.Logger
	// WrapConfig, when set, wraps every REST config (read-only mode:
	// cluster/readonly.WrapConfig).
	WrapConfig func(*rest.Config) *rest.Config
	// WrapClient, when set, wraps the HTTP clients of Prometheus and
	// Alertmanager (read-only mode: cluster/readonly.WrapClient).
	WrapClient func(*http.Client) *http.Client
	// ReadOnly, when set, says whether a context is read-only (flags and
	// config resolved per context): its session's clients then refuse
	// writes at the transport even when vigil started on a read-write
	// context and switched to it.
	ReadOnly func(context string) bool
	// FleetTimeout bounds each context's summary; default 5s.
	FleetTimeout time.Duration
	// FleetParallel bounds how many contexts are summarised at once; default 4.
	FleetParallel int
	// Tune, when set, adjusts each Session's Options before New (tests
	// shorten intervals with it).
	Tune func(*Options)
	// ConnectTimeout bounds a switch's first contact with the API server;
	// default DefaultConnectTimeout.
	ConnectTimeout time.Duration
}

// Manager owns the Session of the context vigil shows and switches it: the
// one object the UI calls for contexts, switches and the fleet view.
type Manager struct {
	opts ManagerOptions
	log  *slog.Logger

	// build and resolve are the switch's steps; tests replace them.
	build   builder
	resolve func(name string) (Connection, error)

	mu      sync.Mutex // guards the fields below
	cur     *shown     // the session shown; nil before the first switch landed
	target  Connection // cur's context
	gen     uint64     // cur's generation
	lastGen uint64     // the last generation given to a session
	running *inflight  // the switch in flight
	subs    map[chan estate.Snapshot]struct{}
	stopped bool
}

// NewManager checks opts; it does not connect.
func NewManager(opts ManagerOptions) (*Manager, error) {
	if opts.Flags == nil {
		return nil, errors.New("cluster.NewManager: ManagerOptions.Flags is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.FleetTimeout <= 0 {
		opts.FleetTimeout = 5 * time.Second
	}
	if opts.FleetParallel <= 0 {
		opts.FleetParallel = 4
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = DefaultConnectTimeout
	}
	m := &Manager{opts: opts, log: opts.Logger, subs: map[chan estate.Snapshot]struct{}{}}
	m.build = m.buildSession
	m.resolve = func(name string) (Connection, error) {
		return ResolveConnection(FlagsFor(m.opts.Flags, name), m.opts.UserAgent)
	}
	return m, nil
}

// Contexts lists the merged kubeconfig's contexts, sorted by name, marking
// the current one (the Manager's, else the kubeconfig's current-context).
func (m *Manager) Contexts() ([]estate.ContextInfo, error) {
	// Read afresh each time (the flags' own loader keeps what it read first): a context
	// added to or removed from the kubeconfig while vigil runs shows at the next refresh.
	raw, err := FlagsFor(m.opts.Flags, "").ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	current, _ := m.Current()
	if current == "" {
		current = raw.CurrentContext
		if m.opts.Flags.Context != nil && *m.opts.Flags.Context != "" {
			current = *m.opts.Flags.Context
		}
	}
	out := make([]estate.ContextInfo, 0, len(raw.Contexts))
	for name, c := range raw.Contexts {
		info := estate.ContextInfo{Name: name, Cluster: c.Cluster, User: c.AuthInfo, Namespace: c.Namespace,
			Current: name == current, Protected: m.opts.Config.IsProtected(name)}
		if cl, ok := raw.Clusters[c.Cluster]; ok {
			info.Server = cl.Server
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Current returns the context shown and the generation of its session
// (0 before the first Switch landed).
func (m *Manager) Current() (context string, generation uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur == nil {
		return "", m.gen
	}
	return m.cur.sess.Context(), m.gen
}

// Session returns the current session (nil before the first Switch landed).
func (m *Manager) Session() *Session {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur == nil {
		return nil
	}
	s, _ := m.cur.sess.(*Session)
	return s
}

// Connection returns the resolved current context (server, user, REST config).
func (m *Manager) Connection() Connection {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.target
}

// forward copies one session's snapshots to the Manager's subscribers.
func (m *Manager) forward(ch <-chan estate.Snapshot, done chan struct{}) {
	defer close(done)
	for snap := range ch {
		m.mu.Lock()
		for sub := range m.subs {
			select {
			case <-sub:
			default:
			}
			sub <- snap
		}
		m.mu.Unlock()
	}
}

// Subscribe returns a channel of snapshots that survives context switches
// (each snapshot carries Context and Generation: drop older generations)
// and a func to unsubscribe. Only the newest snapshot is buffered. The
// channel closes on Stop or unsubscribe.
func (m *Manager) Subscribe() (<-chan estate.Snapshot, func()) {
	ch := make(chan estate.Snapshot, 1)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		close(ch)
		return ch, func() {}
	}
	m.subs[ch] = struct{}{}
	if m.cur != nil {
		if snap, ok := m.cur.sess.Latest(); ok {
			ch <- snap
		}
	}
	return ch, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if _, ok := m.subs[ch]; ok {
			delete(m.subs, ch)
			close(ch)
		}
	}
}

// Stop cancels a switch in flight and waits for it, ends the current
// session and closes every subscription.
func (m *Manager) Stop() {
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		return
	}
	m.stopped = true
	running, cur := m.running, m.cur
	m.cur = nil
	m.mu.Unlock()
	if running != nil {
		running.cancel(errStopping)
		<-running.done
	}
	if cur != nil {
		cur.stop()
	}
	m.mu.Lock()
	for ch := range m.subs {
		close(ch)
	}
	m.subs = nil
	m.mu.Unlock()
}

// wrapsFor returns the client wrappers of a context's session: the
// read-only transport when the context is read-only, else the configured
// ones.
func (m *Manager) wrapsFor(context string) (func(*rest.Config) *rest.Config, func(*http.Client) *http.Client) {
	if m.opts.ReadOnly != nil && m.opts.ReadOnly(context) {
		return readonly.WrapConfig, readonly.WrapClient
	}
	return m.opts.WrapConfig, m.opts.WrapClient
}
