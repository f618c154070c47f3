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
	var errs []error
	walk(root, reflect.TypeOf(Config{}), "", file, cfg.lines, &errs)
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
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
	if err := root.Decode(&cfg); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, e := range te.Errors {
				errs = append(errs, located(file, 0, "", strings.TrimPrefix(e, "yaml: ")))
			}
			return Config{}, errors.Join(errs...)
		}
		return Config{}, located(file, 0, "", err.Error())
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
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

// walk checks node against type t, records the line of every key under
// prefix and reports unknown keys with their line and the known ones.
func walk(node *yaml.Node, t reflect.Type, prefix, file string, lines map[string]int, errs *[]error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if node.Kind != yaml.MappingNode {
			*errs = append(*errs, located(file, node.Line, strings.TrimSuffix(prefix, "."), "want a mapping"))
			return
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(node.Content); i += 2 {
			k, v := node.Content[i], node.Content[i+1]
			ft, ok := fields[k.Value]
			path := prefix + k.Value
			if !ok {
				*errs = append(*errs, located(file, k.Line, path, fmt.Sprintf("unknown field %q (known fields: %s)", k.Value, strings.Join(sortedKeys(fields), ", "))))
				continue
			}
			lines[path] = k.Line
			walk(v, ft, path+".", file, lines, errs)
		}
	case reflect.Map:
		if node.Kind != yaml.MappingNode {
			*errs = append(*errs, located(file, node.Line, strings.TrimSuffix(prefix, "."), "want a mapping"))
			return
		}
		for i := 0; i+1 < len(node.Content); i += 2 {
			k, v := node.Content[i], node.Content[i+1]
			lines[prefix+k.Value] = k.Line
			walk(v, t.Elem(), prefix+k.Value+".", file, lines, errs)
		}
	case reflect.Slice:
		if node.Kind == yaml.SequenceNode {
			base := strings.TrimSuffix(prefix, ".")
			for i, item := range node.Content {
				lines[fmt.Sprintf("%s[%d]", base, i)] = item.Line
			}
		}
	}
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
