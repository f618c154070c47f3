package checks

import "math"

// Score summarises findings: per group and overall, 0–100. See
// docs/checks.md for the formula.
type Score struct {
	// Overall is the weighted score over every group; nil when nothing was
	// scorable (only not-applicable and unknown findings).
	Overall *float64 `json:"overall"`
	// Groups maps each checklist group to its score (nil: nothing scorable).
	Groups map[Group]*float64 `json:"groups"`
	// Counts counts findings per status.
	Counts map[Status]int `json:"counts"`
}

// statusValue is what a finding contributes to its check's score; ok is
// false for statuses the score leaves out.
func statusValue(s Status) (v float64, ok bool) {
	switch s {
	case Pass:
		return 1, true
	case Warn:
		return 0.5, true
	case Fail:
		return 0, true
	}
	return 0, false
}

// ComputeScore scores findings against the catalogue they came from.
//
// A check's score is the mean of its scorable findings (pass=1, warn=0.5,
// fail=0; not-applicable and unknown excluded). A group's score is the
// severity-weighted mean of its checks' scores (critical 10, high 5,
// medium 3, low 1), over checks with at least one scorable finding; the
// overall score is the same weighted mean over all such checks. Scores are
// percentages rounded to one decimal.
func ComputeScore(cat []Check, findings []Finding) Score {
	type acc struct{ sum, n float64 }
	perCheck := map[string]*acc{}
	s := Score{Groups: map[Group]*float64{}, Counts: map[Status]int{}}
	for _, st := range []Status{Pass, Fail, Warn, NotApplicable, Unknown} {
		s.Counts[st] = 0
	}
	for _, f := range findings {
		s.Counts[f.Status]++
		v, ok := statusValue(f.Status)
		if !ok {
			continue
		}
		a := perCheck[f.Check]
		if a == nil {
			a = &acc{}
			perCheck[f.Check] = a
		}
		a.sum += v
		a.n++
	}
	groupSum, groupW := map[Group]float64{}, map[Group]float64{}
	var allSum, allW float64
	for _, c := range cat {
		a := perCheck[c.ID]
		if a == nil || a.n == 0 {
			continue
		}
		w := c.Severity.Weight()
		groupSum[c.Group] += w * a.sum / a.n
		groupW[c.Group] += w
		allSum += w * a.sum / a.n
		allW += w
	}
	for _, g := range Groups {
		s.Groups[g] = percent(groupSum[g], groupW[g])
	}
	s.Overall = percent(allSum, allW)
	return s
}

func percent(sum, weight float64) *float64 {
	if weight == 0 {
		return nil
	}
	v := math.Round(1000*sum/weight) / 10
	return &v
}
