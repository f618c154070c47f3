package gitops

import (
	"encoding/json"
	"fmt"
	"time"
)

// The annotations vigil keeps on an Application whose automated sync it suspended: the
// automated block that was removed (JSON, restored exactly on resume), who suspended it, why,
// when, and until when. They live on the Application so that every vigil, the headless
// commands and `kubectl get application -o yaml` see the same suspension.
const (
	AnnotationSavedAutomated = "vigil-k8s.io/suspended-automated"
	AnnotationSuspendedBy    = "vigil-k8s.io/suspended-by"
	AnnotationSuspendReason  = "vigil-k8s.io/suspended-reason"
	AnnotationSuspendedAt    = "vigil-k8s.io/suspended-at"
	AnnotationSuspendedUntil = "vigil-k8s.io/suspended-until"
)

// SuspensionAnnotations are every annotation a suspension writes (and a resume removes).
var SuspensionAnnotations = []string{AnnotationSavedAutomated, AnnotationSuspendedBy, AnnotationSuspendReason,
	AnnotationSuspendedAt, AnnotationSuspendedUntil}

// Suspension is vigil's record of an automated sync it suspended.
type Suspension struct {
	// Saved is the spec.syncPolicy.automated block that was removed, as it was.
	Saved map[string]any
	// By, Reason, At and Until are who suspended it, why, when, and until when.
	By, Reason string
	At, Until  time.Time
	// Broken says why the annotations could not be read (hand-edited), when they could not.
	Broken string
}

func suspensionOf(ann map[string]any) *Suspension {
	raw, ok := ann[AnnotationSavedAutomated].(string)
	if !ok {
		return nil
	}
	s := &Suspension{}
	if err := json.Unmarshal([]byte(raw), &s.Saved); err != nil || s.Saved == nil {
		s.Broken = fmt.Sprintf("annotation %s is not a JSON object", AnnotationSavedAutomated)
	}
	s.By, _ = ann[AnnotationSuspendedBy].(string)
	s.Reason, _ = ann[AnnotationSuspendReason].(string)
	at, _ := ann[AnnotationSuspendedAt].(string)
	until, _ := ann[AnnotationSuspendedUntil].(string)
	s.At, _ = time.Parse(time.RFC3339, at)
	var err error
	if s.Until, err = time.Parse(time.RFC3339, until); err != nil && s.Broken == "" {
		s.Broken = fmt.Sprintf("annotation %s is not an RFC 3339 time", AnnotationSuspendedUntil)
	}
	return s
}

// SuspensionOf reads vigil's suspension annotations from an Application's annotations, nil
// when it has none.
func SuspensionOf(annotations map[string]string) *Suspension {
	m := make(map[string]any, len(annotations))
	for k, v := range annotations {
		m[k] = v
	}
	return suspensionOf(m)
}

// Reminder is the header line while auto-sync is suspended: "fintech-app auto-sync suspended
// by alice for 47 more minutes: re-enable or revert in Git", or that the time is up.
func (s *Suspension) Reminder(app string, now time.Time) string {
	who := s.By
	if who == "" {
		who = "someone"
	}
	left := s.Until.Sub(now)
	switch {
	case s.Until.IsZero():
		return fmt.Sprintf("%s auto-sync suspended by %s: re-enable or revert in Git", app, who)
	case left <= 0:
		return fmt.Sprintf("%s auto-sync suspended by %s, expired %s ago: re-enable or revert in Git", app, who, roundMin(-left))
	}
	return fmt.Sprintf("%s auto-sync suspended by %s for %s: re-enable or revert in Git", app, who, moreMinutes(left))
}

// Expired reports whether the suspension's time is up at now.
func (s *Suspension) Expired(now time.Time) bool {
	return !s.Until.IsZero() && !now.Before(s.Until)
}

func moreMinutes(d time.Duration) string {
	m := int((d + time.Minute - 1) / time.Minute) // 46m01s is "47 more minutes"
	if m == 1 {
		return "1 more minute"
	}
	return fmt.Sprintf("%d more minutes", m)
}

func roundMin(d time.Duration) string {
	if d < time.Minute {
		return d.Round(time.Second).String()
	}
	return d.Round(time.Minute).String()
}
