package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
)

// SystemFile is the system-wide configuration a managed machine's administrator installs. Its
// safety settings hold for every user of the machine: a user's file, --config /dev/null or a
// flag can add protections to it, never remove one (see WithSystem).
const SystemFile = "/etc/vigil/config.yaml"

// EnvSystemPath names the environment variable that points at one more system-wide layer, for
// tests and for trying a policy out. It adds to SystemFile, never replaces it: setting it
// cannot loosen what /etc/vigil/config.yaml says.
const EnvSystemPath = "VIGIL_SYSTEM_CONFIG"

// InCluster is the one name of the in-cluster service account's "context", in the UI, the
// headless commands and the audit log alike.
const InCluster = "in-cluster"

// MatchContext reports whether a kube context name matches one of patterns. Patterns are
// path.Match globs: '*' is any run of characters other than '/', '?' one such character,
// '[a-z]' a class; a name without metacharacters matches only itself. The same function
// decides the config's protectedContexts and the --protected-context flag. A '/' must be
// matched literally, so an EKS context is "arn:aws:eks:*:*:cluster/prod-*".
func MatchContext(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// ValidPattern reports a context pattern that path.Match cannot use.
func ValidPattern(p string) error {
	if _, err := path.Match(p, ""); err != nil {
		return fmt.Errorf("%q is not a valid pattern: %w", p, err)
	}
	return nil
}

// Identity is a kube context as the safety policy sees it: its name and the API server it
// reaches. A context's policy belongs to the server its kubeconfig gives it; when a flag
// (--server, --cluster) points the name at another server, the identity is Overridden and
// the name's own settings do not apply to it.
type Identity struct {
	// Name is the kube context's name; InCluster for the service account.
	Name string
	// Server is the API server URL the clients use.
	Server string
	// Overridden is true when Server is not the one the kubeconfig gives Name.
	Overridden bool
}

// Key is what the config's contexts and protectedContexts are matched against: the name, or
// for an overridden identity "name@server", which no per-context setting of the name matches,
// so a flag cannot borrow another context's (looser) settings for a different server.
func (id Identity) Key() string {
	if id.Overridden {
		return id.Name + "@" + id.Server
	}
	return id.Name
}

// String names the identity for messages.
func (id Identity) String() string {
	if id.Overridden {
		return fmt.Sprintf("%s (pointed at %s by a flag)", id.Name, id.Server)
	}
	return id.Name
}

// WithSystem returns c with system-wide layers on top. Each layer can only tighten c's safety
// settings (readOnly, readOnlyEnforced, protected, requireReason, logs, protectedContexts), for
// every context: For and ReadOnlySettingOf take the stricter of c and the layers, and a
// layer's readOnly: true is enforced (--write cannot lift it).
func (c Config) WithSystem(layers ...Config) Config {
	c.system = append(append([]Config(nil), c.system...), layers...)
	return c
}

// System returns the system-wide layers of c, for messages and evidence.
func (c Config) System() []Config { return c.system }

// systemKey is a key the system-wide file may set: the safety settings, globally or per context.
var systemKey = regexp.MustCompile(`^((contexts\.[^.]+\.)?(readOnly|readOnlyEnforced|protected|requireReason|logs)|protectedContexts(\[\d+\])?|contexts(\.[^.]+)?)$`)

// LoadSystem reads the system-wide layers: SystemFile, then $VIGIL_SYSTEM_CONFIG (read through
// getenv) when set. A layer whose file does not exist is skipped; one that cannot be read or
// is not valid is an error, so a broken policy stops vigil rather than vanishing. A layer may
// set only the safety settings: any other key is an error naming it.
func LoadSystem(getenv func(string) string) ([]Config, error) {
	files := []string{SystemFile}
	if p := getenv(EnvSystemPath); p != "" && p != SystemFile {
		files = append(files, p)
	}
	var out []Config
	for _, f := range files {
		data, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("system-wide config %s: %w", f, err)
		}
		c, err := parse(data, f)
		if err != nil {
			return nil, fmt.Errorf("system-wide config: %w", err)
		}
		var errs []error
		for _, k := range sortedKeys(c.lines) {
			if !systemKey.MatchString(k) {
				errs = append(errs, &FieldError{File: f, Line: c.lines[k], Path: k,
					Msg: "not a safety setting: the system-wide config sets only readOnly, readOnlyEnforced, protected, requireReason, logs (false only counts) and protectedContexts (globally or under contexts.<name>)"})
			}
		}
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// LoadWithSystem is Load of the user's file p with the system-wide layers (LoadSystem) on top:
// the configuration every command goes by.
func LoadWithSystem(p Path, getenv func(string) string) (Config, error) {
	sys, err := LoadSystem(getenv)
	if err != nil {
		return Config{}, err
	}
	c, err := Load(p)
	if err != nil {
		return Config{}, err
	}
	return c.WithSystem(sys...), nil
}

// tighter is the stricter of a user's setting and a system-wide one: true when either is.
func tighter(user, system *bool) *bool {
	if system != nil && *system {
		return system
	}
	return user
}
