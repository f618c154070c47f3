// Package config holds vigil's user settings: defaults in code, a YAML file
// unmarshalled over them, then Validate. It does no cluster I/O.
//
// Precedence is flags > file > defaults; the flag merge happens in the
// command, which owns the flags.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"
)

// EnvPath names the environment variable that points at a config file.
const EnvPath = "VIGIL_CONFIG"

// DefaultNamespaces are the namespaces vigil watches when nothing else is said:
// the fintech estate's production, staging, monitoring and security namespaces.
var DefaultNamespaces = []string{"fintech-prod", "fintech-staging", "fintech-monitoring", "fintech-security"}

// Config is the whole of vigil's user configuration.
type Config struct {
	// Namespaces are the namespaces whose services vigil shows.
	Namespaces []string `json:"namespaces"`
}

// Default returns the configuration used when no file sets anything.
func Default() Config {
	return Config{Namespaces: append([]string(nil), DefaultNamespaces...)}
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
// missing file that the user did not name yields the defaults.
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
	cfg, err = Parse(data)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", p.File, err)
	}
	return cfg, nil
}

// Parse unmarshals YAML over the defaults, strictly (unknown keys are errors),
// and validates the result.
func Parse(data []byte) (Config, error) {
	cfg := Default()
	if len(bytes.TrimSpace(data)) > 0 {
		if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
			return Config{}, cleanYAMLError(err)
		}
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// FieldError is a validation failure of one field, named by its path.
type FieldError struct {
	// Path is the field's path, e.g. "namespaces[2]".
	Path string
	// Msg says what is wrong and what would be right.
	Msg string
}

func (e *FieldError) Error() string { return e.Path + ": " + e.Msg }

// dns1123Label is what Kubernetes accepts as a namespace name.
var dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// Validate checks every field and returns all failures joined, each a
// *FieldError naming its path.
func (c Config) Validate() error {
	var errs []error
	if len(c.Namespaces) == 0 {
		errs = append(errs, &FieldError{Path: "namespaces", Msg: "must list at least one namespace"})
	}
	seen := map[string]int{}
	for i, ns := range c.Namespaces {
		path := fmt.Sprintf("namespaces[%d]", i)
		switch {
		case len(ns) > 63 || !dns1123Label.MatchString(ns):
			errs = append(errs, &FieldError{Path: path, Msg: fmt.Sprintf("%q is not a valid namespace name (lower-case letters, digits and '-', at most 63)", ns)})
		case seen[ns] > 0:
			errs = append(errs, &FieldError{Path: path, Msg: fmt.Sprintf("%q is listed twice (also namespaces[%d])", ns, seen[ns]-1)})
		}
		seen[ns] = i + 1
	}
	return errors.Join(errs...)
}

// cleanYAMLError turns sigs.k8s.io/yaml's layered message into the part a
// user can act on, e.g. `unknown field "namspaces"`, keeping the original
// error reachable through errors.Unwrap.
func cleanYAMLError(err error) error {
	msg := err.Error()
	for _, prefix := range []string{"error unmarshaling JSON: ", "while decoding JSON: ", "json: "} {
		msg = strings.TrimPrefix(msg, prefix)
	}
	if strings.HasPrefix(msg, "unknown field ") {
		msg += " (known fields: namespaces)"
	}
	return &parseError{msg: msg, err: err}
}

// parseError is a YAML failure with a message fit for a user.
type parseError struct {
	msg string
	err error
}

func (e *parseError) Error() string { return e.msg }
func (e *parseError) Unwrap() error { return e.err }
