package gitops

import (
	"encoding/json"
	"math/rand"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
)

// TestRemovePointerMatchesJSONPatch checks vigil's JSON pointer removal against
// evanphx/json-patch's RFC 6902 "remove", the library Argo CD's normalizer applies
// jsonPointers with: for generated objects and pointers (escaped keys, array indices, paths
// that do not exist), the results are equal, and where json-patch refuses a missing path
// vigil leaves the object unchanged, as Argo CD skips it.
func TestRemovePointerMatchesJSONPatch(t *testing.T) {
	rng := rand.New(rand.NewSource(19))
	keys := []string{"spec", "replicas", "template", "a/b", "x~y", "0", "1", "metadata", "annotations"}
	var gen func(depth int) any
	gen = func(depth int) any {
		if depth == 0 || rng.Intn(4) == 0 {
			return float64(rng.Intn(5))
		}
		if rng.Intn(3) == 0 {
			s := make([]any, rng.Intn(3))
			for i := range s {
				s[i] = gen(depth - 1)
			}
			return s
		}
		m := map[string]any{}
		for i := rng.Intn(4); i >= 0; i-- {
			m[keys[rng.Intn(len(keys))]] = gen(depth - 1)
		}
		return m
	}
	for i := 0; i < 3000; i++ {
		obj, ok := gen(4).(map[string]any)
		if !ok {
			continue
		}
		var toks []string
		for j := rng.Intn(4); j >= 0; j-- {
			if rng.Intn(3) == 0 {
				toks = append(toks, strconv.Itoa(rng.Intn(3)))
			} else {
				toks = append(toks, keys[rng.Intn(len(keys))])
			}
		}
		ptr := pointer(toks)
		doc, _ := json.Marshal(obj)
		op, _ := json.Marshal([]map[string]string{{"op": "remove", "path": ptr}})
		patch, err := jsonpatch.DecodePatch(op)
		if err != nil {
			t.Fatal(err)
		}
		want := obj
		if res, err := patch.Apply(doc); err == nil {
			want = nil
			_ = json.Unmarshal(res, &want)
		}
		got, notes := normalize(obj, []IgnoreRule{{Kind: "*", JSONPointers: []string{ptr}}})
		if len(notes) > 0 {
			t.Fatalf("%s: %v", ptr, notes)
		}
		if !reflect.DeepEqual(got, deepCopy(want)) {
			t.Fatalf("remove %s from %s:\n got %v\nwant %v", ptr, doc, got, want)
		}
	}
}

func TestSuspensionReminder(t *testing.T) {
	now := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	s := SuspensionOf(map[string]string{
		AnnotationSavedAutomated: `{"prune":true,"selfHeal":true}`, AnnotationSuspendedBy: "alice",
		AnnotationSuspendReason: "INC-1234", AnnotationSuspendedUntil: now.Add(46*time.Minute + time.Second).Format(time.RFC3339)})
	if got, want := s.Reminder("fintech-app", now), "fintech-app auto-sync suspended by alice for 47 more minutes: re-enable or revert in Git"; got != want {
		t.Errorf("reminder %q, want %q", got, want)
	}
	if s.Expired(now) || !s.Expired(now.Add(time.Hour)) {
		t.Errorf("expired at now %v, in an hour %v", s.Expired(now), s.Expired(now.Add(time.Hour)))
	}
	if got := s.Reminder("fintech-app", now.Add(time.Hour)); !strings.Contains(got, "expired 14m0s ago") {
		t.Errorf("after expiry: %q", got)
	}
	if !reflect.DeepEqual(s.Saved, map[string]any{"prune": true, "selfHeal": true}) || s.Broken != "" {
		t.Errorf("saved %v broken %q", s.Saved, s.Broken)
	}
	if b := SuspensionOf(map[string]string{AnnotationSavedAutomated: "not json"}); b == nil || b.Broken == "" {
		t.Errorf("a hand-edited annotation should be reported broken, got %+v", b)
	}
	if SuspensionOf(map[string]string{"other": "x"}) != nil {
		t.Error("no suspension annotations: want nil")
	}
}
