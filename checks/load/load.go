// Package load builds a checks.Inventory from manifest files: multi-document
// YAML or JSON, files or directories (recursively), decoded by apiVersion and
// kind into the k8s.io/api types without client-go. Secret data is dropped on
// decode: vigil never holds it.
package load

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/vigil-k8s/vigil/checks"
)

// Error is a problem with one input: the file, and the 1-based index of the
// YAML document within it (0 when the file as a whole is at fault).
type Error struct {
	File string
	Doc  int
	Line int
	Err  error
}

func (e *Error) Error() string {
	switch {
	case e.Doc > 0 && e.Line > 0:
		return fmt.Sprintf("%s: document %d (line %d): %v", e.File, e.Doc, e.Line, e.Err)
	case e.Doc > 0:
		return fmt.Sprintf("%s: document %d: %v", e.File, e.Doc, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Paths reads every path (a file, a directory walked recursively for
// .yaml, .yml and .json files, or "-" for stdin) into one inventory. When
// one object appears twice (same group, kind, namespace and name), the last
// one read wins, as with kubectl apply in the same order; directories are
// read in lexical order.
func Paths(paths []string, stdin io.Reader) (*checks.Inventory, error) {
	b := newBuilder()
	for _, p := range paths {
		if p == "-" {
			data, err := io.ReadAll(stdin)
			if err != nil {
				return nil, &Error{File: "<stdin>", Err: err}
			}
			if err := b.addFile("<stdin>", data); err != nil {
				return nil, err
			}
			continue
		}
		files, err := expand(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, &Error{File: f, Err: unwrapPathError(err)}
			}
			if err := b.addFile(f, data); err != nil {
				return nil, err
			}
		}
	}
	return b.inventory(), nil
}

// Bytes reads one file's content, named name in errors and sources.
func Bytes(name string, data []byte) (*checks.Inventory, error) {
	b := newBuilder()
	if err := b.addFile(name, data); err != nil {
		return nil, err
	}
	return b.inventory(), nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// expand lists the manifest files under p.
func expand(p string) ([]string, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, &Error{File: p, Err: unwrapPathError(err)}
	}
	if !info.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return &Error{File: path, Err: unwrapPathError(err)}
		}
		if d.IsDir() && path != p && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if !d.IsDir() && slices.Contains([]string{".yaml", ".yml", ".json"}, strings.ToLower(filepath.Ext(path))) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, &Error{File: p, Err: errors.New("no .yaml, .yml or .json files in the directory")}
	}
	return files, nil
}

// document is one YAML document of a file with its first line.
type document struct {
	data []byte
	line int
}

// splitDocuments splits a multi-document YAML stream on "---" lines.
func splitDocuments(data []byte) []document {
	var docs []document
	var cur bytes.Buffer
	start, n := 1, 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimRight(line, " \t\r")
		if trimmed == "---" || strings.HasPrefix(trimmed, "--- ") || strings.HasPrefix(trimmed, "---\t") {
			docs = append(docs, document{append([]byte(nil), cur.Bytes()...), start})
			cur.Reset()
			start = n + 1
			if rest := strings.TrimSpace(strings.TrimPrefix(trimmed, "---")); rest != "" && !strings.HasPrefix(rest, "#") {
				cur.WriteString(rest + "\n")
			}
			continue
		}
		if trimmed == "..." {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	docs = append(docs, document{cur.Bytes(), start})
	return docs
}

// isBlank reports whether a document holds only comments and whitespace.
func isBlank(doc []byte) bool {
	for _, line := range strings.Split(string(doc), "\n") {
		t := strings.TrimSpace(line)
		if t != "" && !strings.HasPrefix(t, "#") {
			return false
		}
	}
	return true
}

func (b *builder) addFile(name string, data []byte) error {
	idx := 0
	for _, doc := range splitDocuments(data) {
		if isBlank(doc.data) {
			continue
		}
		idx++
		// The first non-comment line is where the object starts.
		line := doc.line
		for _, l := range strings.Split(string(doc.data), "\n") {
			if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
				break
			}
			line++
		}
		js, err := yaml.YAMLToJSON(doc.data)
		if err != nil {
			return &Error{File: name, Doc: idx, Line: doc.line, Err: cleanYAML(err)}
		}
		if err := b.addJSON(js, position{file: name, doc: idx, line: line}); err != nil {
			return &Error{File: name, Doc: idx, Line: doc.line, Err: err}
		}
	}
	return nil
}

// position is where an object was read: file, 1-based document index, the
// document's first line, and the 1-based index within a List (0 if none).
type position struct {
	file      string
	doc, line int
	item      int
}

func (p position) source() string { return fmt.Sprintf("%s:%d", p.file, p.line) }

func cleanYAML(err error) error {
	msg := strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")
	return errors.New(msg)
}

// typeMeta is the part of every object the loader dispatches on.
type typeMeta struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Items      []json.RawMessage `json:"items"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
}

func (b *builder) addJSON(js []byte, pos position) error {
	if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
		return nil
	}
	var tm typeMeta
	if err := json.Unmarshal(js, &tm); err != nil {
		return fmt.Errorf("not a Kubernetes object: %w", err)
	}
	if tm.Kind == "" || tm.APIVersion == "" {
		return errors.New("not a Kubernetes object: apiVersion and kind are required")
	}
	if strings.HasSuffix(tm.Kind, "List") && tm.APIVersion == "v1" {
		for i, item := range tm.Items {
			p := pos
			p.item = i + 1
			if err := b.addJSON(item, p); err != nil {
				return fmt.Errorf("items[%d]: %w", i, err)
			}
		}
		return nil
	}
	reason, err := b.decode(tm.APIVersion, tm.Kind, js, pos)
	if err != nil {
		return err
	}
	if reason != "" {
		b.skipped = append(b.skipped, checks.Skipped{File: pos.file, Doc: pos.doc, Line: pos.line, Item: pos.item,
			APIVersion: tm.APIVersion, Kind: tm.Kind, Namespace: tm.Metadata.Namespace, Name: tm.Metadata.Name, Reason: reason})
	}
	return nil
}
