package termsafe

import (
	"reflect"
	"sync"
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
		scrub(p.Elem())
	}
}

// scrub rewrites the settable value v in place.
func scrub(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if s := v.String(); !Safe(s) {
			v.SetString(Line(s))
		}
	case reflect.Struct:
		for _, i := range fieldsOf(v.Type()) {
			scrub(v.Field(i))
		}
	case reflect.Array:
		for i := range v.Len() {
			scrub(v.Index(i))
		}
	case reflect.Slice:
		if v.IsNil() || !needs(v.Type().Elem()) || !dirty(v) {
			return
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(c, v)
		for i := range c.Len() {
			scrub(c.Index(i))
		}
		v.Set(c)
	case reflect.Pointer:
		if v.IsNil() || !dirty(v.Elem()) {
			return
		}
		c := reflect.New(v.Type().Elem())
		c.Elem().Set(v.Elem())
		scrub(c.Elem())
		v.Set(c)
	case reflect.Interface:
		if v.IsNil() || !dirty(v.Elem()) {
			return
		}
		c := reflect.New(v.Elem().Type()).Elem()
		c.Set(v.Elem())
		scrub(c)
		v.Set(c)
	case reflect.Map:
		if v.IsNil() || (!needs(v.Type().Key()) && !needs(v.Type().Elem())) || !dirtyMap(v) {
			return
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		it := v.MapRange()
		for it.Next() {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			k.Set(it.Key())
			e.Set(it.Value())
			scrub(k)
			scrub(e)
			out.SetMapIndex(k, e)
		}
		v.Set(out)
	}
}

// dirtyMap reports whether a map holds a string Scrub would change.
func dirtyMap(v reflect.Value) bool {
	it := v.MapRange()
	for it.Next() {
		if dirty(it.Key()) || dirty(it.Value()) {
			return true
		}
	}
	return false
}

// dirty reports whether v holds a string Scrub would change.
func dirty(v reflect.Value) bool {
	if !needs(v.Type()) {
		return false
	}
	switch v.Kind() {
	case reflect.String:
		return !Safe(v.String())
	case reflect.Pointer, reflect.Interface:
		return !v.IsNil() && dirty(v.Elem())
	case reflect.Struct:
		for _, i := range fieldsOf(v.Type()) {
			if dirty(v.Field(i)) {
				return true
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if dirty(v.Index(i)) {
				return true
			}
		}
	case reflect.Map:
		return dirtyMap(v)
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
