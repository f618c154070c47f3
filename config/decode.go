package config

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// parse decodes data over the defaults. It walks the yaml.Node tree first
// (sigs.k8s.io/yaml would lose line numbers) to reject unknown keys and
// record each field's line, then decodes and validates.
func parse(data []byte, file string) (Config, error) {
	cfg := Default()
	cfg.file = file
	cfg.lines = map[string]int{}
	if len(bytes.TrimSpace(data)) == 0 {
		return cfg, cfg.Validate()
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Config{}, located(file, 0, "", "not valid YAML: "+strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 {
		return cfg, cfg.Validate()
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return Config{}, located(file, root.Line, "", "want a mapping of settings (e.g. namespaces: [fintech-prod])")
	}
	// One pass: unknown keys, values of the wrong type and semantic mistakes are all
	// reported together, each with its file, line and field. walk prunes what it rejects, so
	// the decode below cannot fail on it and Validate judges what remains.
	var errs []error
	walk(root, reflect.TypeOf(Config{}), "", file, cfg.lines, &errs)
	// Lists in the file replace the defaults rather than merging into them.
	for _, key := range []string{"namespaces", "allowedRegistries"} {
		if _, ok := cfg.lines[key]; ok {
			setList(&cfg.Settings, key, nil)
		}
	}
	if _, ok := cfg.lines["alertLabels.service"]; ok {
		cfg.AlertLabels.Service = nil
	}
	if _, ok := cfg.lines["alertLabels.namespace"]; ok {
		cfg.AlertLabels.Namespace = nil
	}
	if err := root.Decode(&cfg); err != nil { // walk has checked every value: not expected
		errs = append(errs, located(file, root.Line, "", strings.TrimPrefix(err.Error(), "yaml: ")))
	}
	if err := cfg.Validate(); err != nil {
		errs = append(errs, unjoin(err)...)
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b error) int { return lineOf(a) - lineOf(b) })
		return Config{}, errors.Join(errs...)
	}
	return cfg, nil
}

// unjoin returns the errors an errors.Join holds, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// lineOf is a FieldError's line, for ordering the report as the file reads.
func lineOf(err error) int {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Line
	}
	return 0
}

func setList(s *Settings, key string, v []string) {
	switch key {
	case "namespaces":
		s.Namespaces = v
	case "allowedRegistries":
		s.AllowedRegistries = v
	}
}

func located(file string, line int, path, msg string) error {
	return &FieldError{File: file, Line: line, Path: or(path, "(file)"), Msg: msg}
}

// walk checks node against type t, records the line of every key under prefix and
// reports unknown keys and values of the wrong type, each with its line and field. It removes
// what it reports from the tree and returns false when node itself is to be removed.
func walk(node *yaml.Node, t reflect.Type, prefix, file string, lines map[string]int, errs *[]error) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	path := strings.TrimSuffix(prefix, ".")
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		if node.Kind != yaml.MappingNode {
			*errs = append(*errs, located(file, node.Line, path, "want a mapping, got "+describe(node)))
			return false
		}
		fields := map[string]reflect.Type(nil)
		if t.Kind() == reflect.Struct {
			fields = yamlFields(t)
		}
		kept := node.Content[:0:0]
		for i := 0; i+1 < len(node.Content); i += 2 {
			k, v := node.Content[i], node.Content[i+1]
			ft := t
			if fields != nil {
				var ok bool
				if ft, ok = fields[k.Value]; !ok {
					*errs = append(*errs, located(file, k.Line, prefix+k.Value, fmt.Sprintf("unknown field %q (known fields: %s)", k.Value, strings.Join(sortedKeys(fields), ", "))))
					continue
				}
			} else {
				ft = t.Elem()
			}
			p := prefix + k.Value
			if !walk(v, ft, p+".", file, lines, errs) {
				continue
			}
			lines[p] = k.Line
			kept = append(kept, k, v)
		}
		node.Content = kept
		return true
	}
	if err := decodeAs(node, t); err != nil {
		*errs = append(*errs, located(file, node.Line, path, "want "+want(t)+", got "+describe(node)))
		return false
	}
	if node.Kind == yaml.SequenceNode {
		for i, item := range node.Content {
			lines[fmt.Sprintf("%s[%d]", path, i)] = item.Line
		}
	}
	return true
}

// decodeAs decodes node into a fresh value of t: the type check of one leaf.
func decodeAs(node *yaml.Node, t reflect.Type) error {
	return node.Decode(reflect.New(t).Interface())
}

// want says in words what a leaf of type t takes.
func want(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String {
			return "a list of strings, e.g. [a, b]"
		}
		return "a list"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "a whole number"
	}
	return "a " + t.String()
}

// describe names what the file holds at node, for "want …, got …".
func describe(node *yaml.Node) string {
	switch node.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	}
	v := node.Value
	if len(v) > 40 {
		v = v[:40] + "…"
	}
	switch node.ShortTag() {
	case "!!bool":
		return "the boolean " + v
	case "!!int", "!!float":
		return "the number " + v
	case "!!null":
		return "nothing (null)"
	}
	return fmt.Sprintf("the string %q", v)
}

// yamlFields maps the yaml keys of struct t (following inline fields) to types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if opts == "inline" {
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
