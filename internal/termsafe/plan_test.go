package termsafe

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// The walker before per-type plans (issue 17: at 30k pods Scrub was most of
// a snapshot build), kept as the reference the planned walker must equal.

func plainScrub(v any) {
	p := reflect.ValueOf(v)
	if p.Kind() == reflect.Pointer && !p.IsNil() {
		plainScrubValue(p.Elem())
	}
}

// scrub rewrites the settable value v in place.
func plainScrubValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if s := v.String(); !Safe(s) {
			v.SetString(Line(s))
		}
	case reflect.Struct:
		for _, i := range fieldsOf(v.Type()) {
			plainScrubValue(v.Field(i))
		}
	case reflect.Array:
		for i := range v.Len() {
			plainScrubValue(v.Index(i))
		}
	case reflect.Slice:
		if v.IsNil() || !needs(v.Type().Elem()) || !plainDirty(v) {
			return
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(c, v)
		for i := range c.Len() {
			plainScrubValue(c.Index(i))
		}
		v.Set(c)
	case reflect.Pointer:
		if v.IsNil() || !plainDirty(v.Elem()) {
			return
		}
		c := reflect.New(v.Type().Elem())
		c.Elem().Set(v.Elem())
		plainScrubValue(c.Elem())
		v.Set(c)
	case reflect.Interface:
		if v.IsNil() || !plainDirty(v.Elem()) {
			return
		}
		c := reflect.New(v.Elem().Type()).Elem()
		c.Set(v.Elem())
		plainScrubValue(c)
		v.Set(c)
	case reflect.Map:
		if v.IsNil() || (!needs(v.Type().Key()) && !needs(v.Type().Elem())) || !plainDirtyMap(v) {
			return
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		it := v.MapRange()
		for it.Next() {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			k.Set(it.Key())
			e.Set(it.Value())
			plainScrubValue(k)
			plainScrubValue(e)
			out.SetMapIndex(k, e)
		}
		v.Set(out)
	}
}

// dirtyMap reports whether a map holds a string Scrub would change.
func plainDirtyMap(v reflect.Value) bool {
	it := v.MapRange()
	for it.Next() {
		if plainDirty(it.Key()) || plainDirty(it.Value()) {
			return true
		}
	}
	return false
}

// dirty reports whether v holds a string Scrub would change.
func plainDirty(v reflect.Value) bool {
	if !needs(v.Type()) {
		return false
	}
	switch v.Kind() {
	case reflect.String:
		return !Safe(v.String())
	case reflect.Pointer, reflect.Interface:
		return !v.IsNil() && plainDirty(v.Elem())
	case reflect.Struct:
		for _, i := range fieldsOf(v.Type()) {
			if plainDirty(v.Field(i)) {
				return true
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if plainDirty(v.Index(i)) {
				return true
			}
		}
	case reflect.Map:
		return plainDirtyMap(v)
	}
	return false
}

type leaf struct {
	A      string
	B      int
	C      []string
	Skip   string `termsafe:"-"`
	M      map[string]string
	P      *string
	hidden string
}

type node struct {
	Name   string
	Kids   []*node
	Leaf   leaf
	Leaves []leaf
	Arr    [2]string
	Any    any
	ByName map[string]*leaf
	Nums   []int
	Count  map[int]int
}

// gen builds a random tree from r: the same seed builds equal trees that
// share no memory.
func gen(r *rand.Rand, depth int) *node {
	texts := []string{"", "payment-service", "fintech-prod", "ok"}
	for _, h := range hostile {
		texts = append(texts, h)
	}
	slices.Sort(texts) // the same seed, the same texts: hostile is a map
	// A quarter of the nodes are clean but for Any, so that a walker that
	// misses text behind an interface inside a pointer is seen.
	onlyAny := r.IntN(4) == 0
	anyText := func() string { return texts[r.IntN(len(texts))] }
	str := func() string {
		if onlyAny {
			return texts[r.IntN(4)] // the clean ones
		}
		return anyText()
	}
	mkLeaf := func() leaf {
		l := leaf{A: str(), B: r.IntN(9), Skip: str(), hidden: str()}
		if r.IntN(3) > 0 {
			l.C = []string{}
			for range r.IntN(4) {
				l.C = append(l.C, str())
			}
		}
		if r.IntN(2) == 0 {
			l.M = map[string]string{}
			for range r.IntN(3) {
				l.M[str()] = str()
			}
		}
		if r.IntN(2) == 0 {
			s := str()
			l.P = &s
		}
		return l
	}
	n := &node{Name: str(), Leaf: mkLeaf(), Arr: [2]string{str(), str()}}
	for range r.IntN(4) {
		n.Leaves = append(n.Leaves, mkLeaf())
	}
	switch r.IntN(4) {
	case 1:
		n.Any = anyText()
	case 2:
		l := mkLeaf()
		l.A = anyText()
		n.Any = l
	case 3:
		l := mkLeaf()
		n.Any = &l
	}
	if r.IntN(2) == 0 {
		n.ByName = map[string]*leaf{}
		for range r.IntN(3) {
			l := mkLeaf()
			n.ByName[str()] = &l
		}
	}
	if r.IntN(2) == 0 {
		n.Nums, n.Count = []int{r.IntN(5)}, map[int]int{1: r.IntN(5)}
	}
	if depth > 0 {
		for range r.IntN(3) {
			n.Kids = append(n.Kids, gen(r, depth-1))
		}
	}
	return n
}

// TestPlannedScrubEqualsThePlainWalk: over random trees of hostile and
// clean text, the planned walker leaves exactly what the plain one leaves,
// and neither writes the memory the scrubbed value shared with its source.
func TestPlannedScrubEqualsThePlainWalk(t *testing.T) {
	for seed := range uint64(500) {
		tree := func() *node { return gen(rand.New(rand.NewPCG(seed, 17)), 3) }
		src := tree()
		planned, plain := *src, *tree()
		Scrub(&planned)
		plainScrub(&plain)
		if !reflect.DeepEqual(planned, plain) {
			t.Fatalf("seed %d: the planned walk differs from the plain one:\nplanned %s\nplain   %s", seed, dump(planned), dump(plain))
		}
		if !reflect.DeepEqual(src, tree()) {
			t.Fatalf("seed %d: Scrub wrote memory its value shared with the source", seed)
		}
		if what := unsafeText(&planned); what != "" {
			t.Fatalf("seed %d: %s", seed, what)
		}
	}
}

// unsafeText walks a node by hand (not by reflection, as Scrub does) and
// names the first text Scrub should have escaped and did not.
func unsafeText(n *node) string {
	var bad []string
	check := func(where, s string) {
		if ok, what := terminalSafe(s, false); !ok {
			bad = append(bad, fmt.Sprintf("%s %q holds %q", where, s, what))
		}
	}
	checkLeaf := func(where string, l leaf) {
		check(where+".A", l.A)
		for _, c := range l.C {
			check(where+".C", c)
		}
		for k, v := range l.M {
			check(where+".M key", k)
			check(where+".M value", v)
		}
		if l.P != nil {
			check(where+".P", *l.P)
		}
	}
	check("Name", n.Name)
	checkLeaf("Leaf", n.Leaf)
	for _, l := range n.Leaves {
		checkLeaf("Leaves", l)
	}
	check("Arr[0]", n.Arr[0])
	check("Arr[1]", n.Arr[1])
	switch a := n.Any.(type) {
	case string:
		check("Any", a)
	case leaf:
		checkLeaf("Any", a)
	case *leaf:
		checkLeaf("Any", *a)
	}
	for k, l := range n.ByName {
		check("ByName key", k)
		checkLeaf("ByName", *l)
	}
	for _, k := range n.Kids {
		if what := unsafeText(k); what != "" {
			bad = append(bad, "Kids: "+what)
		}
	}
	if len(bad) == 0 {
		return ""
	}
	return bad[0]
}

func dump(n node) string { return fmt.Sprintf("%+v", n) }

// TestMemoScrubEqualsScrub: over passes like a live session's evaluations,
// each of a random selection of a pool of objects that are never written
// and of which some are replaced between passes (new objects, as an informer
// replaces a changed one), Memo.Scrub leaves exactly what Scrub leaves, no
// unsafe text, and the pool as it was: an object the memo knows as safe is
// skipped, a replaced or hostile one walked.
func TestMemoScrubEqualsScrub(t *testing.T) {
	type inventory struct{ Objs []*node }
	r := rand.New(rand.NewPCG(5, 9))
	seeds := make([]uint64, 60)
	pool := make([]*node, len(seeds))
	next := uint64(0)
	// Half of the objects clean (a tree scrubbed once), as most of a
	// cluster's are; half mostly hostile.
	object := func(seed uint64) *node {
		n := gen(rand.New(rand.NewPCG(seed, 17)), 2)
		if seed%2 == 0 {
			Scrub(&n)
		}
		return n
	}
	replace := func(i int) {
		seeds[i], next = next, next+1
		pool[i] = object(seeds[i])
	}
	for i := range pool {
		replace(i)
	}
	var m Memo
	for pass := range 40 {
		for range r.IntN(8) {
			replace(r.IntN(len(pool)))
		}
		var in inventory
		for _, o := range pool {
			if r.IntN(4) != 0 {
				in.Objs = append(in.Objs, o)
			}
		}
		want, got := inventory{slices.Clone(in.Objs)}, inventory{slices.Clone(in.Objs)}
		Scrub(&want)
		m.Scrub(&got)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("pass %d: Memo.Scrub differs from Scrub", pass)
		}
		for i, o := range got.Objs {
			if what := unsafeText(o); what != "" {
				t.Fatalf("pass %d, object %d: %s", pass, i, what)
			}
		}
		for i, o := range pool {
			if !reflect.DeepEqual(o, object(seeds[i])) {
				t.Fatalf("pass %d: Memo.Scrub wrote pool object %d", pass, i)
			}
		}
	}
	if len(m.prev) == 0 {
		t.Fatal("the memo remembered nothing: every pass walked every object")
	}
}
