package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Connection is a resolved kube context: where to connect and as whom.
type Connection struct {
	// Context is the kube context's name, or "in-cluster".
	Context string
	// Server is the API server URL.
	Server string
	// User is the kubeconfig user (auth info) name, or "serviceaccount".
	User string
	// Kubeconfig names the file(s) the context came from; empty in-cluster.
	Kubeconfig string
	// As is the user the connection impersonates (--as, or the kubeconfig
	// user's as:), with the groups it impersonates (--as-group, as-groups:)
	// as "scoped (groups a, b)": the API server authorizes every request as
	// that user in those groups.
	As string
	// Anonymous says the connection carries no credentials at all (a context
	// whose user the kubeconfig does not define): the API server takes its
	// requests for system:anonymous.
	Anonymous bool
	// RESTConfig is ready for New; its UserAgent is set.
	RESTConfig *rest.Config
}

// ResolveConnection resolves the kube context the flags (--kubeconfig, --context,
// KUBECONFIG, in-cluster, ...) select, kubectl-style. Errors name the file
// and context and say what to do; userAgent is sent with every request.
func ResolveConnection(flags *genericclioptions.ConfigFlags, userAgent string) (Connection, error) {
	return resolveConnection(flags, flags.ToRawKubeConfigLoader(), userAgent)
}

// resolveConnection is ResolveConnection with the kubeconfig read through loader, which
// applies flags' overrides: flags' own, or a ContextResolver's over its one parse.
func resolveConnection(flags *genericclioptions.ConfigFlags, loader clientcmd.ClientConfig, userAgent string) (Connection, error) {
	files := kubeconfigFiles(flags, loader)
	if flags.KubeConfig != nil && *flags.KubeConfig != "" {
		if _, err := os.Stat(*flags.KubeConfig); err != nil {
			return Connection{}, fmt.Errorf("kubeconfig %s: %w", *flags.KubeConfig, unwrapPathError(err))
		}
	}
	raw, err := loader.RawConfig()
	if err != nil {
		if strings.Contains(err.Error(), files) { // clientcmd already names the file
			return Connection{}, fmt.Errorf("kubeconfig: %w", err)
		}
		return Connection{}, fmt.Errorf("kubeconfig %s: %w", files, err)
	}
	name := raw.CurrentContext
	if flags.Context != nil && *flags.Context != "" {
		name = *flags.Context
	}
	t := Connection{Context: name, Kubeconfig: files}
	if name != "" {
		kctx, ok := raw.Contexts[name]
		if !ok {
			return Connection{}, fmt.Errorf("context %q not found in kubeconfig %s (have: %s)", name, files, contextNames(raw.Contexts))
		}
		t.User = kctx.AuthInfo
		// A context naming a cluster the kubeconfig does not have: client-go would quietly
		// try http://localhost:8080 (a renamed or deleted cluster entry, a half-merged file).
		cluster := kctx.Cluster
		if isSet(flags.ClusterName) {
			cluster = *flags.ClusterName
		}
		if _, ok := raw.Clusters[cluster]; !ok && !isSet(flags.APIServer) {
			return Connection{}, fmt.Errorf("context %q: cluster %q not found in kubeconfig %s (have: %s)", name, cluster, files, contextNames(raw.Clusters))
		}
	}
	if name == "" && len(raw.Contexts) == 0 && !inCluster() && !isSet(flags.APIServer) {
		// Without this, client-go would quietly try http://localhost:8080.
		return Connection{}, fmt.Errorf("no kubeconfig found (looked in %s) and not running inside a cluster: set KUBECONFIG or pass --kubeconfig", files)
	}
	if isSet(flags.AuthInfoName) {
		t.User = *flags.AuthInfoName
	}

	cfg, err := loader.ClientConfig() // flags.ToRESTConfig, through loader
	if err == nil && flags.WrapConfigFn != nil {
		cfg = flags.WrapConfigFn(cfg)
	}
	switch {
	case clientcmd.IsEmptyConfig(err):
		return Connection{}, fmt.Errorf("no kubeconfig found (looked in %s) and not running inside a cluster: set KUBECONFIG or pass --kubeconfig", files)
	case err != nil:
		return Connection{}, fmt.Errorf("kubeconfig %s, context %q: %w", files, name, err)
	}
	if name == "" && inCluster() {
		// An empty kubeconfig that still yields a config means in-cluster.
		t.Context, t.User, t.Kubeconfig = "in-cluster", "serviceaccount", ""
	} else if name == "" {
		t.Context = "(no context)" // --server without a kubeconfig
	}
	// TLS material (a CA file that is not PEM, a key that does not match
	// its certificate) fails here, once, naming the context and the file,
	// rather than later in whichever client is built first.
	if _, err = rest.TLSConfigFor(cfg); err != nil {
		return Connection{}, fmt.Errorf("context %q: TLS settings%s: %w", t.Context, tlsFiles(cfg), err)
	}
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = userAgent
	// Informers list several resources in several namespaces at start;
	// client-go's default 5 QPS would make that take seconds.
	cfg.QPS, cfg.Burst = 50, 100
	// API server warnings go to vigil's log and a headless command's stderr (SetWarnings),
	// never as client-go's raw klog line.
	cfg.WarningHandler, cfg.WarningHandlerWithContext = nil, apiWarnings
	t.Server = cfg.Host
	t.RESTConfig = cfg
	t.Anonymous = !hasCredentials(cfg)
	t.As = cfg.Impersonate.UserName
	if g := cfg.Impersonate.Groups; len(g) > 0 {
		// A group can grant what the user alone cannot (system:masters): who acts is both.
		t.As = strings.TrimSpace(t.As + " (groups " + strings.Join(g, ", ") + ")")
	}
	return t, nil
}

// FlagsFor returns a copy of the kube connection flags selecting context name ("" keeps
// src's own choice), for resolving one context of several (:ctx, the Contexts screen's
// passes, check --all-contexts). Every flag is carried over (--proxy-url, --as-user-extra
// and --disable-compression included: a copy that dropped one would connect otherwise
// than the user asked) except --namespace, which vigil does not take from the kubeconfig.
// A fresh ConfigFlags per call, which keeps the kubeconfig it loads: the context's
// resolutions parse the file once, and the next call reads it afresh.
func FlagsFor(src *genericclioptions.ConfigFlags, name string) *genericclioptions.ConfigFlags {
	f := genericclioptions.NewConfigFlags(true)
	f.KubeConfig, f.ClusterName, f.AuthInfoName, f.Context = src.KubeConfig, src.ClusterName, src.AuthInfoName, src.Context
	f.APIServer, f.TLSServerName, f.Insecure = src.APIServer, src.TLSServerName, src.Insecure
	f.CertFile, f.KeyFile, f.CAFile, f.BearerToken = src.CertFile, src.KeyFile, src.CAFile, src.BearerToken
	f.Impersonate, f.ImpersonateUID, f.ImpersonateGroup, f.ImpersonateUserExtra = src.Impersonate, src.ImpersonateUID, src.ImpersonateGroup, src.ImpersonateUserExtra
	f.Username, f.Password, f.Timeout = src.Username, src.Password, src.Timeout
	f.DisableCompression, f.ProxyURL, f.CacheDir, f.WrapConfigFn = src.DisableCompression, src.ProxyURL, src.CacheDir, src.WrapConfigFn
	f.Namespace = nil
	if name != "" {
		n := name
		f.Context = &n
	}
	return f
}

// ContextResolver resolves contexts of one kubeconfig as ResolveConnection(FlagsFor(flags,
// name)) does, from one parse of the kubeconfig: resolving each context afresh parses the
// whole file once per context, quadratic in contexts (7 s for 200). Make one per pass over
// the contexts (check --all-contexts, a Contexts screen refresh), so that the next pass reads
// the file afresh. Safe for concurrent use.
type ContextResolver struct {
	flags     *genericclioptions.ConfigFlags
	userAgent string
	access    clientcmd.ConfigAccess // where the kubeconfig came from, for messages and token persistence
	raw       clientcmdapi.Config
	parsed    bool // raw holds the kubeconfig: else every Resolve takes ResolveConnection's way
}

// NewContextResolver parses the kubeconfig flags select.
func NewContextResolver(flags *genericclioptions.ConfigFlags, userAgent string) *ContextResolver {
	r := &ContextResolver{flags: flags, userAgent: userAgent}
	loader := FlagsFor(flags, "").ToRawKubeConfigLoader()
	raw, err := loader.RawConfig()
	// In a pod, client-go may fall back to the in-cluster config where a kubeconfig's
	// context does not say enough, and a password flag prompts: those, and a kubeconfig that
	// does not parse (whose error each context reports as ResolveConnection words it), go
	// the way of ResolveConnection.
	if err == nil && !inCluster() && flags.Password == nil {
		r.raw, r.access, r.parsed = raw, loader.ConfigAccess(), true
	}
	return r
}

// Resolve returns the connection of context name, as ResolveConnection(FlagsFor(flags,
// name)) would; an error comes from ResolveConnection itself, so it reads the same.
func (r *ContextResolver) Resolve(name string) (Connection, error) {
	if c, err := r.fromParse(name); err == nil {
		return c, nil
	}
	return ResolveConnection(FlagsFor(r.flags, name), r.userAgent)
}

// errNotParsed is fromParse's error when the resolver holds no parse.
var errNotParsed = errors.New("kubeconfig not parsed")

// fromParse resolves context name from the resolver's parse.
func (r *ContextResolver) fromParse(name string) (Connection, error) {
	if !r.parsed {
		return Connection{}, errNotParsed
	}
	flags := FlagsFor(r.flags, name)
	// A copy of the parse: client-go's resolution reads it, and may persist an auth
	// provider's refreshed token into it.
	loader := clientcmd.NewNonInteractiveClientConfig(*r.raw.DeepCopy(), name, configOverrides(flags), r.access)
	return resolveConnection(flags, loader, r.userAgent)
}

// configOverrides are the client-go overrides of the connection flags, as cli-runtime's
// ConfigFlags.ToRawKubeConfigLoader binds them (k8s.io/cli-runtime v0.37.2,
// pkg/genericclioptions/config_flags.go; private there). TestContextResolverAgrees holds
// the two to the same connections for every flag.
func configOverrides(f *genericclioptions.ConfigFlags) *clientcmd.ConfigOverrides {
	o := &clientcmd.ConfigOverrides{ClusterDefaults: clientcmd.ClusterDefaults}
	if f.CertFile != nil {
		o.AuthInfo.ClientCertificate, o.AuthInfo.ClientCertificateData = *f.CertFile, nil
	}
	if f.KeyFile != nil {
		o.AuthInfo.ClientKey, o.AuthInfo.ClientKeyData = *f.KeyFile, nil
	}
	if f.BearerToken != nil {
		o.AuthInfo.Token, o.AuthInfo.TokenFile = *f.BearerToken, ""
	}
	if f.Impersonate != nil {
		o.AuthInfo.Impersonate = *f.Impersonate
	}
	if f.ImpersonateUserExtra != nil && len(*f.ImpersonateUserExtra) > 0 {
		extra := map[string][]string{}
		for _, kv := range *f.ImpersonateUserExtra {
			if k, v, ok := strings.Cut(kv, "="); ok {
				extra[k] = append(extra[k], v)
			}
		}
		o.AuthInfo.ImpersonateUserExtra = extra
	}
	if f.ImpersonateUID != nil {
		o.AuthInfo.ImpersonateUID = *f.ImpersonateUID
	}
	if f.ImpersonateGroup != nil {
		o.AuthInfo.ImpersonateGroups = *f.ImpersonateGroup
	}
	if f.Username != nil {
		o.AuthInfo.Username = *f.Username
	}
	if f.APIServer != nil {
		o.ClusterInfo.Server = *f.APIServer
	}
	if f.TLSServerName != nil {
		o.ClusterInfo.TLSServerName = *f.TLSServerName
	}
	if f.CAFile != nil {
		o.ClusterInfo.CertificateAuthority = *f.CAFile
	}
	if f.Insecure != nil {
		o.ClusterInfo.InsecureSkipTLSVerify = *f.Insecure
	}
	if f.DisableCompression != nil {
		o.ClusterInfo.DisableCompression = *f.DisableCompression
	}
	if f.ProxyURL != nil {
		o.ClusterInfo.ProxyURL = *f.ProxyURL
	}
	if f.Context != nil {
		o.CurrentContext = *f.Context
	}
	if f.ClusterName != nil {
		o.Context.Cluster = *f.ClusterName
	}
	if f.AuthInfoName != nil {
		o.Context.AuthInfo = *f.AuthInfoName
	}
	if f.Namespace != nil {
		o.Context.Namespace = *f.Namespace
	}
	if f.Timeout != nil {
		o.Timeout = *f.Timeout
	}
	return o
}

// tlsFiles names the TLS files a config reads, for an error about them.
func tlsFiles(cfg *rest.Config) string {
	var files []string
	for _, f := range []struct{ what, path string }{{"certificate-authority", cfg.CAFile}, {"client-certificate", cfg.CertFile}, {"client-key", cfg.KeyFile}} {
		if f.path != "" {
			files = append(files, f.what+" "+f.path)
		}
	}
	if len(files) == 0 {
		return ""
	}
	return " (" + strings.Join(files, ", ") + ")"
}

// inCluster reports whether the in-cluster service account config applies,
// by the same environment client-go's rest.InClusterConfig reads.
func inCluster() bool {
	return os.Getenv("KUBERNETES_SERVICE_HOST") != "" && os.Getenv("KUBERNETES_SERVICE_PORT") != ""
}

func isSet(p *string) bool { return p != nil && *p != "" }

// kubeconfigFiles names where the kubeconfig was read from, for messages.
func kubeconfigFiles(flags *genericclioptions.ConfigFlags, loader clientcmd.ClientConfig) string {
	if flags.KubeConfig != nil && *flags.KubeConfig != "" {
		return *flags.KubeConfig
	}
	if access := loader.ConfigAccess(); access != nil {
		if paths := access.GetLoadingPrecedence(); len(paths) > 0 {
			return strings.Join(paths, string(filepath.ListSeparator))
		}
	}
	return clientcmd.RecommendedHomeFile
}

func contextNames[V any](m map[string]V) string {
	if len(m) == 0 {
		return "none"
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
