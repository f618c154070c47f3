// Package config holds vigil's user settings: defaults in code, a YAML file
// decoded over them, then Validate. It does no cluster I/O.
//
// Precedence is flags > per-context settings > global settings > defaults;
// the flag merge happens in the command, which owns the flags (for
// read-only, cmd.ResolveMode, over ReadOnlySettingOf).
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// EnvPath names the environment variable that points at a config file.
const EnvPath = "VIGIL_CONFIG"

// DefaultNamespaces are the namespaces vigil watches when nothing else is said:
// the fintech estate's production, staging, monitoring and security namespaces.
var DefaultNamespaces = []string{"fintech-prod", "fintech-staging", "fintech-monitoring", "fintech-security"}

// DefaultServiceLabels are the alert labels tried, in order, to find the
// service an alert is about.
var DefaultServiceLabels = []string{"service", "app", "job"}

// DefaultNamespaceLabels are the alert labels naming the namespace.
var DefaultNamespaceLabels = []string{"namespace"}

// Argo CD access modes.
const (
	// ArgoKubernetes reads and writes Application resources through the
	// Kubernetes API (the default).
	ArgoKubernetes = "kubernetes"
	// ArgoServer talks to argocd-server's REST API with a token.
	ArgoServer = "server"
)

// Config is the whole of vigil's user configuration: global Settings
// (inline, at the top of the file) and per-context overrides.
type Config struct {
	// Settings are the global defaults every context starts from.
	Settings `yaml:",inline"`
	// ProtectedContexts are context names or patterns ("prod-*", matched
	// as MatchContext says) whose mutations need typed confirmation.
	ProtectedContexts []string `yaml:"protectedContexts"`
	// Contexts override Settings per kube context name.
	Contexts map[string]Settings `yaml:"contexts"`

	// lines maps a field path ("contexts.local-1.prometheus") to its line
	// in the file, for errors; nil for a Config not read from a file.
	lines map[string]int
	// file is where the Config was read from, for errors.
	file string
	// system are the system-wide layers (WithSystem): they can only tighten
	// the safety settings of this Config, never loosen them.
	system []Config
}

// Settings are the knobs that may be set globally or per context. A zero
// value (nil pointer, empty string or list) means "not set here".
type Settings struct {
	// Namespaces are the namespaces whose services vigil shows.
	Namespaces []string `yaml:"namespaces"`
	// NamespaceSelector, when set, picks the watched namespaces by label
	// (e.g. "team=payments") instead of Namespaces.
	NamespaceSelector string `yaml:"namespaceSelector"`
	// Prometheus is the Prometheus base URL, e.g. http://prometheus:9090.
	Prometheus string `yaml:"prometheus"`
	// Alertmanager is the Alertmanager base URL, e.g. http://alertmanager:9093.
	Alertmanager string `yaml:"alertmanager"`
	// ArgoCD says how to reach Argo CD.
	ArgoCD ArgoCD `yaml:"argocd"`
	// AlertLabels says which alert labels join an alert to a service.
	AlertLabels AlertLabels `yaml:"alertLabels"`
	// ReadOnly refuses every mutation when true.
	ReadOnly *bool `yaml:"readOnly"`
	// ReadOnlyEnforced, on a context, makes ReadOnly immune to --write.
	ReadOnlyEnforced *bool `yaml:"readOnlyEnforced"`
	// Protected marks a context as protected (see Config.ProtectedContexts).
	Protected *bool `yaml:"protected"`
	// RequireReason makes every mutation ask for a reason for the audit log.
	RequireReason *bool `yaml:"requireReason"`
	// AllowedRegistries are the registries images may come from (checks).
	AllowedRegistries []string `yaml:"allowedRegistries"`
	// Logs, when false, disables container logs (see LogsOf): for
	// contexts whose logs carry payload data a reviewer must not see.
	Logs *bool `yaml:"logs"`
	// Fleet says where the Contexts screen's summary of a context comes
	// from: one LIST pass of its API server (the default) or PromQL over
	// kube-state-metrics series in a Prometheus shared by the fleet.
	Fleet Fleet `yaml:"fleet"`
}

// DefaultClusterLabel is the label that tells one cluster's
// kube-state-metrics series from another's in a fleet Prometheus.
const DefaultClusterLabel = "cluster"

// Fleet is the fleet source of a context's summary on the Contexts screen.
type Fleet struct {
	// Prometheus, when set, is the base URL of a Prometheus (or Thanos
	// Query, Mimir: any /api/v1/query) holding every cluster's
	// kube-state-metrics series; the summary then comes from PromQL, not
	// from LISTs against the context's API server.
	Prometheus string `yaml:"prometheus"`
	// ClusterLabel is the label naming the cluster on those series;
	// default "cluster".
	ClusterLabel string `yaml:"clusterLabel"`
	// Cluster is the value of ClusterLabel for this context's series;
	// default the context's name. Per context only.
	Cluster string `yaml:"cluster"`
}

// FleetCluster is the cluster label value of context's series: fleet.cluster
// when set, else the context's name.
func (s Settings) FleetCluster(context string) string {
	return or(s.Fleet.Cluster, context)
}

// FleetClusterLabel is the label naming clusters: fleet.clusterLabel when
// set, else DefaultClusterLabel.
func (s Settings) FleetClusterLabel() string {
	return or(s.Fleet.ClusterLabel, DefaultClusterLabel)
}

// ArgoCD configures access to Argo CD.
type ArgoCD struct {
	// Mode is "kubernetes" (default) or "server".
	Mode string `yaml:"mode"`
	// Server is argocd-server's URL (mode server).
	Server string `yaml:"server"`
	// TokenFile holds the API token (mode server); vigil never stores it.
	TokenFile string `yaml:"tokenFile"`
}

// AlertLabels name the labels that join alerts to services.
type AlertLabels struct {
	// Service are tried in order; the first present names the service.
	Service []string `yaml:"service"`
	// Namespace are tried in order for the namespace.
	Namespace []string `yaml:"namespace"`
	// Match keeps only the alerts carrying all these labels, for a
	// Prometheus or Alertmanager shared by several clusters (e.g.
	// cluster: prod-eu); empty keeps every alert.
	Match map[string]string `yaml:"match"`
}

// Keeps reports whether an alert with these labels belongs to the context.
func (l AlertLabels) Keeps(labels map[string]string) bool {
	for k, v := range l.Match {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// Default returns the configuration used when no file sets anything.
func Default() Config {
	return Config{Settings: Settings{
		Namespaces:        append([]string(nil), DefaultNamespaces...),
		ArgoCD:            ArgoCD{Mode: ArgoKubernetes},
		AlertLabels:       AlertLabels{Service: append([]string(nil), DefaultServiceLabels...), Namespace: append([]string(nil), DefaultNamespaceLabels...)},
		AllowedRegistries: []string{"registry.fintech.internal"},
	}}
}

// For returns the settings of a kube context: the global settings with the
// context's overrides on top. Namespaces and NamespaceSelector override as
// a pair: a context setting either replaces both. The system-wide layers
// (WithSystem) then tighten the safety settings: a readOnly,
// readOnlyEnforced, protected or requireReason that is true there is true
// here, whatever this file says.
func (c Config) For(context string) Settings {
	s := c.own(context)
	for _, sys := range c.system {
		t := sys.own(context)
		s.ReadOnly = tighter(s.ReadOnly, t.ReadOnly)
		s.ReadOnlyEnforced = tighter(s.ReadOnlyEnforced, t.ReadOnlyEnforced)
		s.Protected = tighter(s.Protected, t.Protected)
		s.RequireReason = tighter(s.RequireReason, t.RequireReason)
		s.Logs = fewerLogs(s.Logs, t.Logs)
	}
	return s
}

// own is For without the system-wide layers.
func (c Config) own(context string) Settings {
	s := c.Settings
	s.Namespaces = slices.Clone(s.Namespaces)
	o, ok := c.Contexts[context]
	if ok {
		if len(o.Namespaces) > 0 || o.NamespaceSelector != "" {
			s.Namespaces, s.NamespaceSelector = slices.Clone(o.Namespaces), o.NamespaceSelector
		}
		s.Prometheus = or(o.Prometheus, s.Prometheus)
		s.Alertmanager = or(o.Alertmanager, s.Alertmanager)
		s.ArgoCD.Mode = or(o.ArgoCD.Mode, s.ArgoCD.Mode)
		s.ArgoCD.Server = or(o.ArgoCD.Server, s.ArgoCD.Server)
		s.ArgoCD.TokenFile = or(o.ArgoCD.TokenFile, s.ArgoCD.TokenFile)
		if len(o.AlertLabels.Service) > 0 {
			s.AlertLabels.Service = o.AlertLabels.Service
		}
		if len(o.AlertLabels.Namespace) > 0 {
			s.AlertLabels.Namespace = o.AlertLabels.Namespace
		}
		if len(o.AlertLabels.Match) > 0 {
			s.AlertLabels.Match = o.AlertLabels.Match
		}
		s.ReadOnly = orPtr(o.ReadOnly, s.ReadOnly)
		s.ReadOnlyEnforced = orPtr(o.ReadOnlyEnforced, s.ReadOnlyEnforced)
		s.Protected = orPtr(o.Protected, s.Protected)
		s.RequireReason = orPtr(o.RequireReason, s.RequireReason)
		s.Logs = orPtr(o.Logs, s.Logs)
		s.Fleet.Prometheus = or(o.Fleet.Prometheus, s.Fleet.Prometheus)
		s.Fleet.ClusterLabel = or(o.Fleet.ClusterLabel, s.Fleet.ClusterLabel)
		s.Fleet.Cluster = o.Fleet.Cluster // a cluster names one context's series: never inherited
		if len(o.AllowedRegistries) > 0 {
			s.AllowedRegistries = o.AllowedRegistries
		}
	}
	if s.Protected == nil && c.matchesProtected(context) {
		t := true
		s.Protected = &t
	}
	return s
}

// IsProtected reports whether mutations in context need typed confirmation.
func (c Config) IsProtected(context string) bool {
	p := c.For(context).Protected
	return p != nil && *p
}

func (c Config) matchesProtected(context string) bool {
	return MatchContext(c.ProtectedContexts, context)
}

// ReadOnlySetting is what the file says about one context's read-only mode.
// The command line (cmd.ResolveMode) weighs it against the flags and the
// environment: that is the one place the precedence lives.
type ReadOnlySetting struct {
	// ReadOnly is the context's readOnly, else the global one; nil when
	// neither is set.
	ReadOnly *bool
	// ReadOnlyFrom names the field ReadOnly came from, with file and line:
	// "contexts.audit.readOnly (/home/u/.config/vigil/config.yaml:4)".
	ReadOnlyFrom string
	// Enforced is readOnlyEnforced (the context's, else the global one):
	// the context stays read-only whatever the flags say.
	Enforced bool
	// EnforcedFrom names the readOnlyEnforced field, as ReadOnlyFrom does.
	EnforcedFrom string
}

// ReadOnlySettingOf returns the read-only settings of context, each named
// by the field that set it. A system-wide layer's readOnly: true counts as
// enforced: neither the user's file nor --write can lift it.
func (c Config) ReadOnlySettingOf(context string) ReadOnlySetting {
	r := c.ownReadOnly(context)
	for _, sys := range c.system {
		t := sys.ownReadOnly(context)
		if t.Enforced && !r.Enforced {
			r.Enforced, r.EnforcedFrom = true, t.EnforcedFrom
		}
		if t.ReadOnly != nil && *t.ReadOnly {
			if r.ReadOnly == nil || !*r.ReadOnly {
				r.ReadOnly, r.ReadOnlyFrom = t.ReadOnly, t.ReadOnlyFrom
			}
			if !r.Enforced {
				r.Enforced, r.EnforcedFrom = true, t.ReadOnlyFrom
			}
		}
	}
	return r
}

// ownReadOnly is ReadOnlySettingOf without the system-wide layers.
func (c Config) ownReadOnly(context string) ReadOnlySetting {
	s := c.own(context)
	r := ReadOnlySetting{ReadOnly: s.ReadOnly, Enforced: s.ReadOnlyEnforced != nil && *s.ReadOnlyEnforced}
	if r.ReadOnly != nil {
		r.ReadOnlyFrom = c.where(context, "readOnly")
	}
	if r.Enforced {
		r.EnforcedFrom = c.where(context, "readOnlyEnforced")
	}
	return r
}

// where names a setting for messages: "config <file>:<line> contexts.<ctx>.<field>".
func (c Config) where(context, field string) string {
	path := field
	if context != "" {
		if o, ok := c.Contexts[context]; ok && fieldSet(o, field) {
			path = "contexts." + context + "." + field
		}
	}
	switch line := c.lines[path]; {
	case c.file != "" && line > 0:
		return fmt.Sprintf("%s (%s:%d)", path, c.file, line)
	case c.file != "":
		return fmt.Sprintf("%s (%s)", path, c.file)
	}
	return path
}

func fieldSet(s Settings, field string) bool {
	switch field {
	case "readOnly":
		return s.ReadOnly != nil
	case "readOnlyEnforced":
		return s.ReadOnlyEnforced != nil
	case "logs":
		return s.Logs != nil
	}
	return false
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func orPtr[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}

// Path says where the config file is and whether the user named it.
type Path struct {
	// File is the config file's path; empty when there is none to look at.
	File string
	// Explicit is true when the user named the file (flag or VIGIL_CONFIG),
	// so a missing file is an error rather than "use defaults".
	Explicit bool
}

// Resolve picks the config file: the --config flag, else $VIGIL_CONFIG, else
// $XDG_CONFIG_HOME/vigil/config.yaml (~/.config when XDG_CONFIG_HOME is unset).
// getenv is os.Getenv outside tests.
func Resolve(flag string, getenv func(string) string) Path {
	if flag != "" {
		return Path{File: flag, Explicit: true}
	}
	if p := getenv(EnvPath); p != "" {
		return Path{File: p, Explicit: true}
	}
	base := getenv("XDG_CONFIG_HOME")
	if base == "" {
		home := getenv("HOME")
		if home == "" {
			return Path{}
		}
		base = filepath.Join(home, ".config")
	}
	return Path{File: filepath.Join(base, "vigil", "config.yaml")}
}

// Load reads the file at p over the defaults and validates the result. A
// missing file that the user did not name yields the defaults. Errors name
// the file, the line and the field, e.g.
// "config /home/a/.config/vigil/config.yaml:7: contexts.prod.prometheus: ...".
func Load(p Path) (Config, error) {
	cfg := Default()
	if p.File == "" {
		return cfg, nil
	}
	data, err := os.ReadFile(p.File)
	if errors.Is(err, fs.ErrNotExist) && !p.Explicit {
		return cfg, nil
	}
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", p.File, err)
	}
	cfg, err = parse(data, p.File)
	if err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Parse decodes YAML over the defaults, strictly (unknown keys are errors),
// and validates the result. Errors carry "line N:" but no file name.
func Parse(data []byte) (Config, error) { return parse(data, "") }

// File returns the file the Config was read from ("" for defaults).
func (c Config) File() string { return c.file }

// FieldError is a validation failure of one field, named by its path.
type FieldError struct {
	// File is the config file, when known.
	File string
	// Line is the field's line in File; 0 when unknown.
	Line int
	// Path is the field's path, e.g. "namespaces[2]" or "contexts.prod.prometheus".
	Path string
	// Msg says what is wrong and what would be right.
	Msg string
}

func (e *FieldError) Error() string {
	loc := ""
	switch {
	case e.File != "" && e.Line > 0:
		loc = fmt.Sprintf("config %s:%d: ", e.File, e.Line)
	case e.File != "":
		loc = fmt.Sprintf("config %s: ", e.File)
	case e.Line > 0:
		loc = fmt.Sprintf("line %d: ", e.Line)
	}
	return loc + e.Path + ": " + e.Msg
}

// promLabelName is what Prometheus accepts as a label name.
var promLabelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// CheckNamespaceName says why ns is not a name Kubernetes accepts for a namespace; nil when
// it is. "" is not: to the API an empty namespace means all of them.
func CheckNamespaceName(ns string) error {
	if len(ns) > 63 || !dns1123Label.MatchString(ns) {
		return fmt.Errorf("%q is not a valid namespace name (lower-case letters, digits and '-', at most 63)", ns)
	}
	return nil
}

// dns1123Label is what Kubernetes accepts as a namespace name.
var dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// Validate checks every field and returns all failures joined, each a
// *FieldError naming its path (and file and line when read from a file).
func (c Config) Validate() error {
	var errs []error
	add := func(path, format string, args ...any) {
		line := c.lines[path]
		if line == 0 { // "namespaces[2]" → the list's line
			if i := strings.LastIndexByte(path, '['); i > 0 {
				line = c.lines[path[:i]]
			}
		}
		errs = append(errs, &FieldError{File: c.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	validateSettings(c.Settings, "", true, add)
	names := make([]string, 0, len(c.Contexts))
	for n := range c.Contexts {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		validateSettings(c.Contexts[n], "contexts."+n+".", false, add)
		if c.Contexts[n].Fleet.Cluster != "" && c.own(n).Fleet.Prometheus == "" {
			add("contexts."+n+".fleet.cluster", "has no effect without fleet.prometheus (globally or for this context): the summary comes from LISTs")
		}
	}
	for i, p := range c.ProtectedContexts {
		if _, err := path.Match(p, ""); err != nil {
			add(fmt.Sprintf("protectedContexts[%d]", i), "%q is not a valid pattern: %v", p, err)
		}
	}
	return errors.Join(errs...)
}

func validateSettings(s Settings, prefix string, global bool, add func(path, format string, args ...any)) {
	if global && len(s.Namespaces) == 0 && s.NamespaceSelector == "" {
		add(prefix+"namespaces", "must list at least one namespace (or set namespaceSelector)")
	}
	if len(s.Namespaces) > 0 && s.NamespaceSelector != "" && !global {
		add(prefix+"namespaceSelector", "set namespaces or namespaceSelector, not both")
	}
	seen := map[string]int{}
	for i, ns := range s.Namespaces {
		path := fmt.Sprintf("%snamespaces[%d]", prefix, i)
		switch invalid := CheckNamespaceName(ns); {
		case invalid != nil:
			add(path, "%v", invalid)
		case seen[ns] > 0:
			add(path, "%q is listed twice (also %snamespaces[%d])", ns, prefix, seen[ns]-1)
		}
		seen[ns] = i + 1
	}
	if s.NamespaceSelector != "" && !validSelector(s.NamespaceSelector) {
		add(prefix+"namespaceSelector", "%q is not a label selector (e.g. team=payments,env!=dev)", s.NamespaceSelector)
	}
	for field, u := range map[string]string{"prometheus": s.Prometheus, "alertmanager": s.Alertmanager, "argocd.server": s.ArgoCD.Server, "fleet.prometheus": s.Fleet.Prometheus} {
		if u != "" && !validURL(u) {
			add(prefix+field, "%q is not an http(s) URL (e.g. http://prometheus.fintech-monitoring:9090)", u)
		}
	}
	switch s.ArgoCD.Mode {
	case "", ArgoKubernetes:
	case ArgoServer:
		if global && s.ArgoCD.Server == "" {
			add(prefix+"argocd.server", "mode server needs the argocd-server URL")
		}
	default:
		add(prefix+"argocd.mode", "%q is not a mode: use kubernetes or server", s.ArgoCD.Mode)
	}
	for i, l := range s.AlertLabels.Service {
		if l == "" {
			add(fmt.Sprintf("%salertLabels.service[%d]", prefix, i), "empty label name")
		}
	}
	if l := s.Fleet.ClusterLabel; l != "" && !promLabelName.MatchString(l) {
		add(prefix+"fleet.clusterLabel", "%q is not a Prometheus label name (letters, digits and '_', not starting with a digit), e.g. cluster", l)
	}
	switch c := s.Fleet.Cluster; {
	case c != "" && global:
		add(prefix+"fleet.cluster", "names one context's series: set it per context (contexts.NAME.fleet.cluster), not globally")
	case strings.ContainsAny(c, "\n\r\t") || (c != "" && strings.TrimSpace(c) != c):
		add(prefix+"fleet.cluster", "%q: a cluster label value without spaces or control characters at its ends", c)
	}
	for i, r := range s.AllowedRegistries {
		if r == "" || strings.Contains(r, "://") {
			add(fmt.Sprintf("%sallowedRegistries[%d]", prefix, i), "%q: want a registry host, e.g. registry.example.com", r)
		}
	}
}

var selectorTerm = regexp.MustCompile(`^\s*!?[A-Za-z0-9./_-]+\s*((=|==|!=)\s*[A-Za-z0-9._-]*|\s+(in|notin)\s+\([^)]*\))?\s*$`)

func validSelector(s string) bool {
	depth, start := 0, 0
	for i, r := range s + "," {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				if !selectorTerm.MatchString(s[start:min(i, len(s))]) {
					return false
				}
				start = i + 1
			}
		}
	}
	return depth == 0
}

func validURL(u string) bool {
	return (strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")) && len(u) > len("https://") && !strings.ContainsAny(u, " \t")
}
