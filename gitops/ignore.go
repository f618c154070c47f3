package gitops

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/itchyny/gojq"
)

// Matches reports whether the rule applies to a resource, as Argo CD's normalizer matches:
// group and kind as globs ("*" matches any), name and namespace when set.
func (r IgnoreRule) Matches(group, kind, namespace, name string) bool {
	return glob(r.Group, group) && glob(r.Kind, kind) &&
		(r.Name == "" || r.Name == name) && (r.Namespace == "" || r.Namespace == namespace)
}

func glob(pattern, s string) bool {
	if pattern == s {
		return true
	}
	ok, _ := path.Match(pattern, s)
	return ok
}

// normalize returns a copy of obj without the fields the rules ignore: each JSON pointer
// removed (a missing path is skipped, as Argo CD skips it) and each jq path expression
// deleted with del(EXPR). Problems (a bad pointer, a jq error) are returned as notes: the
// field is then treated as compared, the safer assumption.
func normalize(obj map[string]any, rules []IgnoreRule) (map[string]any, []string) {
	out := deepCopy(obj)
	var notes []string
	for _, r := range rules {
		for _, p := range r.JSONPointers {
			toks, err := pointerTokens(p)
			if err != nil {
				notes = append(notes, fmt.Sprintf("ignoreDifferences jsonPointer %q: %v", p, err))
				continue
			}
			removeAt(out, toks)
		}
		for _, e := range r.JQPathExpressions {
			res, err := jqDelete(out, e)
			if err != nil {
				notes = append(notes, fmt.Sprintf("ignoreDifferences jqPathExpression %q: %v (treated as not ignoring)", e, err))
				continue
			}
			out = res
		}
	}
	return out, notes
}

// jqTimeout bounds one jq expression, as Argo CD bounds it (1 s by default).
const jqTimeout = time.Second

func jqDelete(obj map[string]any, expr string) (map[string]any, error) {
	q, err := gojq.Parse("del(" + expr + ")")
	if err != nil {
		return nil, err
	}
	code, err := gojq.Compile(q)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), jqTimeout)
	defer cancel()
	it := code.RunWithContext(ctx, obj)
	v, ok := it.Next()
	if !ok {
		return nil, fmt.Errorf("no result")
	}
	if e, isErr := v.(error); isErr {
		return nil, e
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("result is a %T, not an object", v)
	}
	return m, nil
}

// pointerTokens splits an RFC 6901 pointer into its unescaped tokens.
func pointerTokens(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("a JSON pointer starts with /")
	}
	toks := strings.Split(p[1:], "/")
	for i, t := range toks {
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks, nil
}

// pointer joins tokens into an RFC 6901 pointer.
func pointer(toks []string) string {
	var b strings.Builder
	for _, t := range toks {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

// removeAt removes the value at toks from o (a map or slice tree), when it exists.
func removeAt(o any, toks []string) any {
	if len(toks) == 0 {
		return o
	}
	switch c := o.(type) {
	case map[string]any:
		if len(toks) == 1 {
			delete(c, toks[0])
			return c
		}
		if next, ok := c[toks[0]]; ok {
			c[toks[0]] = removeAt(next, toks[1:])
		}
		return c
	case []any:
		i, err := strconv.Atoi(toks[0])
		if err != nil || i < 0 || i >= len(c) {
			return c
		}
		if len(toks) == 1 {
			return append(c[:i:i], c[i+1:]...)
		}
		c[i] = removeAt(c[i], toks[1:])
		return c
	}
	return o
}

// lookup reports whether toks resolves in o.
func lookup(o any, toks []string) bool {
	for _, t := range toks {
		switch c := o.(type) {
		case map[string]any:
			v, ok := c[t]
			if !ok {
				return false
			}
			o = v
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(c) {
				return false
			}
			o = c[i]
		default:
			return false
		}
	}
	return true
}

// diffPaths lists the pointers of the leaves that differ between a and b (a field added,
// removed or changed), sorted.
func diffPaths(a, b any) []string {
	var out []string
	var walk func(a, b any, at []string)
	walk = func(a, b any, at []string) {
		am, aok := a.(map[string]any)
		bm, bok := b.(map[string]any)
		// An absent map and an empty one are the same object to the API server (omitempty).
		if aok && b == nil {
			bm, bok = map[string]any{}, true
		}
		if bok && a == nil {
			am, aok = map[string]any{}, true
		}
		if aok && bok {
			keys := map[string]bool{}
			for k := range am {
				keys[k] = true
			}
			for k := range bm {
				keys[k] = true
			}
			for k := range keys {
				walk(am[k], bm[k], append(append([]string(nil), at...), k))
			}
			return
		}
		as, aok := a.([]any)
		bs, bok := b.([]any)
		if aok && bok && len(as) == len(bs) {
			for i := range as {
				walk(as[i], bs[i], append(append([]string(nil), at...), strconv.Itoa(i)))
			}
			return
		}
		if !reflect.DeepEqual(a, b) {
			out = append(out, pointer(at))
		}
	}
	walk(a, b, nil)
	sort.Strings(out)
	return out
}

// deepCopy copies a JSON tree through encoding/json, which also turns the integer types of
// typed objects into the float64 gojq and reflect.DeepEqual compare consistently.
func deepCopy(o map[string]any) map[string]any {
	b, err := json.Marshal(o)
	if err != nil {
		return map[string]any{}
	}
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	if out == nil {
		out = map[string]any{}
	}
	return out
}
