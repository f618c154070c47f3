package termsafe

import (
	"reflect"
	"sync"
	"unsafe"
)

// Scrub makes every string reachable from v (a pointer to a value the
// caller owns) safe for one line (Line): struct fields, slice and array
// elements, map keys and values, through pointers. What holds a string to
// change is copied first (a slice, a map, a pointed-to value) and the copy
// replaces it, so memory shared with an informer's cache or an earlier
// snapshot is never written. A struct field tagged `termsafe:"-"` is
// skipped (text made safe where it was derived, or validated by the API
// server).
func Scrub(v any) {
	p := reflect.ValueOf(v)
	if p.Kind() == reflect.Pointer && !p.IsNil() {
		scrub(p.Elem(), planOf(p.Elem().Type()), nil)
	}
}

// Memo remembers, from one Scrub to the next, the pointers held in slices
// that a scrub found to reach only safe strings, so that the next skips them
// unread. It is for values never written once made, such as an informer's
// cached objects (a change to one is a new object at a new address): a live
// session's inventory is every cached object, and scrubbing it afresh at each
// evaluation was most of the evaluation's time at 30,000 pods. The memo holds
// what the last Scrub saw, nothing older. A Memo is not safe for concurrent
// use; its zero value is ready.
type Memo struct {
	prev, next map[memoKey]struct{}
}

type memoKey struct {
	t reflect.Type
	p unsafe.Pointer
}

// Scrub is the package's Scrub, skipping the pointers in slices that the
// memo's last Scrub found safe.
func (m *Memo) Scrub(v any) {
	p := reflect.ValueOf(v)
	if p.Kind() != reflect.Pointer || p.IsNil() {
		return
	}
	m.next = make(map[memoKey]struct{}, len(m.prev))
	scrub(p.Elem(), planOf(p.Elem().Type()), m)
	m.prev, m.next = m.next, nil
}

// safe reports whether the memo knows e, a slice's element, as safe, and
// keeps it for the next Scrub if so.
func (m *Memo) safe(e reflect.Value) bool {
	if m == nil || e.Kind() != reflect.Pointer || e.IsNil() {
		return false
	}
	k := memoKey{e.Type(), e.UnsafePointer()}
	if _, ok := m.prev[k]; !ok {
		if _, ok = m.next[k]; !ok {
			return false
		}
	}
	m.next[k] = struct{}{}
	return true
}

// found records e, a slice's element, as safe.
func (m *Memo) found(e reflect.Value) {
	if m != nil && e.Kind() == reflect.Pointer && !e.IsNil() {
		m.next[memoKey{e.Type(), e.UnsafePointer()}] = struct{}{}
	}
}

// plan is what Scrub visits in values of one type, worked out once per
// type: a snapshot walks the same few types hundreds of thousands of times
// per build (every pod's fields), and asking the caches of needs and
// fieldsOf at each value cost more than reading the strings.
type plan struct {
	needs  bool // values of the type can hold a string
	fields []fieldPlan
	elem   *plan // pointer, slice, array, map values
	key    *plan // map keys
}

type fieldPlan struct {
	index int
	plan  *plan
}

// plans remembers the plan of each root type Scrub was given.
var plans sync.Map // reflect.Type → *plan

func planOf(t reflect.Type) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	p, _ := plans.LoadOrStore(t, buildPlan(t, map[reflect.Type]*plan{}))
	return p.(*plan)
}

// buildPlan works out t's plan; seen ties a recursive type's plan to itself.
func buildPlan(t reflect.Type, seen map[reflect.Type]*plan) *plan {
	if p, ok := seen[t]; ok {
		return p
	}
	p := &plan{needs: needs(t)}
	seen[t] = p
	if !p.needs {
		return p
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		p.elem = buildPlan(t.Elem(), seen)
	case reflect.Map:
		p.key, p.elem = buildPlan(t.Key(), seen), buildPlan(t.Elem(), seen)
	case reflect.Struct:
		for _, i := range fieldsOf(t) {
			p.fields = append(p.fields, fieldPlan{i, buildPlan(t.Field(i).Type, seen)})
		}
	}
	return p
}

// scrub rewrites the settable value v, of the type p was worked out for,
// in place.
func scrub(v reflect.Value, p *plan, m *Memo) {
	switch v.Kind() {
	case reflect.String:
		if s := v.String(); !Safe(s) {
			v.SetString(Line(s))
		}
	case reflect.Struct:
		for _, f := range p.fields {
			scrub(v.Field(f.index), f.plan, m)
		}
	case reflect.Array:
		if !p.elem.needs {
			return
		}
		for i := range v.Len() {
			scrub(v.Index(i), p.elem, m)
		}
	case reflect.Slice:
		if v.IsNil() || !p.elem.needs || !dirty(v, p, m) {
			return
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(c, v)
		for i := range c.Len() {
			e := c.Index(i)
			if m.safe(e) {
				continue
			}
			scrub(e, p.elem, m)
			if m != nil && e.Kind() == reflect.Pointer && e.UnsafePointer() == v.Index(i).UnsafePointer() {
				m.found(e) // safe as it was, not a scrubbed copy
			}
		}
		v.Set(c)
	case reflect.Pointer:
		if v.IsNil() || !dirty(v.Elem(), p.elem, m) {
			return
		}
		c := reflect.New(v.Type().Elem())
		c.Elem().Set(v.Elem())
		scrub(c.Elem(), p.elem, m)
		v.Set(c)
	case reflect.Interface:
		if v.IsNil() {
			return
		}
		ep := planOf(v.Elem().Type())
		if !dirty(v.Elem(), ep, m) {
			return
		}
		c := reflect.New(v.Elem().Type()).Elem()
		c.Set(v.Elem())
		scrub(c, ep, m)
		v.Set(c)
	case reflect.Map:
		if v.IsNil() || !p.needs || !dirtyMap(v, p, m) {
			return
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		it := v.MapRange()
		for it.Next() {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			k.Set(it.Key())
			e.Set(it.Value())
			scrub(k, p.key, m)
			scrub(e, p.elem, m)
			out.SetMapIndex(k, e)
		}
		v.Set(out)
	}
}

// dirtyMap reports whether map v holds a string Scrub would change.
func dirtyMap(v reflect.Value, p *plan, m *Memo) bool {
	it := v.MapRange()
	for it.Next() {
		if dirty(it.Key(), p.key, m) || dirty(it.Value(), p.elem, m) {
			return true
		}
	}
	return false
}

// dirty reports whether v, of the type p was worked out for, holds a
// string Scrub would change; m (nil for none) knows some of the pointers
// in slices as safe, and learns those found so.
func dirty(v reflect.Value, p *plan, m *Memo) bool {
	if !p.needs {
		return false
	}
	switch v.Kind() {
	case reflect.String:
		return !Safe(v.String())
	case reflect.Pointer:
		return !v.IsNil() && dirty(v.Elem(), p.elem, m)
	case reflect.Interface:
		return !v.IsNil() && dirty(v.Elem(), planOf(v.Elem().Type()), m)
	case reflect.Struct:
		for _, f := range p.fields {
			if dirty(v.Field(f.index), f.plan, m) {
				return true
			}
		}
	case reflect.Array:
		for i := range v.Len() {
			if dirty(v.Index(i), p.elem, m) {
				return true
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			e := v.Index(i)
			if m.safe(e) {
				continue
			}
			if dirty(e, p.elem, m) {
				return true
			}
			m.found(e)
		}
	case reflect.Map:
		return dirtyMap(v, p, m)
	}
	return false
}

// needsCache remembers needs per type: a snapshot walks the same few
// types thousands of times per build.
var needsCache sync.Map // reflect.Type → bool

// needs reports whether values of t can hold a string.
func needs(t reflect.Type) bool {
	if v, ok := needsCache.Load(t); ok {
		return v.(bool)
	}
	n := needsSeen(t, map[reflect.Type]bool{})
	needsCache.Store(t, n)
	return n
}

func needsSeen(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.String, reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return needsSeen(t.Elem(), seen)
	case reflect.Map:
		return needsSeen(t.Key(), seen) || needsSeen(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && needsSeen(f.Type, seen) {
				return true
			}
		}
	}
	return false
}

// fieldsCache remembers fieldsOf per struct type.
var fieldsCache sync.Map // reflect.Type → []int

// fieldsOf lists the fields of struct type t that Scrub visits: exported,
// not tagged `termsafe:"-"`, and able to hold a string.
func fieldsOf(t reflect.Type) []int {
	if v, ok := fieldsCache.Load(t); ok {
		return v.([]int)
	}
	var out []int
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() && f.Tag.Get("termsafe") != "-" && needs(f.Type) {
			out = append(out, i)
		}
	}
	fieldsCache.Store(t, out)
	return out
}
