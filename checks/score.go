package checks

import (
	"math"
	"slices"
)

// CriticalCap is the most a group (and the overall score) can score while
// one of its critical checks scores 0: one cluster-admin binding or one
// reachable PCI workload is not "mostly ready", however many checks pass
// beside it (docs/checks.md).
const CriticalCap = 50.0

// Tally is one way of scoring the findings, per group and overall, 0–100.
type Tally struct {
	// Overall is the weighted score over every group; nil when nothing was
	// scored.
	Overall *float64 `json:"overall"`
	// Groups maps each checklist group to its score (nil: nothing scored).
	Groups map[Group]*float64 `json:"groups"`
	// Capped maps each group held at CriticalCap to the critical checks
	// that scored 0 in it; the overall score is capped when any group is.
	Capped map[Group][]string `json:"capped"`
}

// Score summarises findings. See docs/checks.md for the formulas.
type Score struct {
	// Tally (overall, groups, capped, at the JSON document's top level) is
	// the observed score: what the findings that could be judged show;
	// unknown and not-applicable findings leave it.
	Tally
	// Proven is the score of what was shown: unknown findings, the
	// not-applicable findings of Required checks and checks with no
	// finding count 0.
	Proven Tally `json:"proven"`
	// Coverage counts the checklist items decided.
	Coverage Coverage `json:"coverage"`
	// Counts counts findings per status.
	Counts map[Status]int `json:"counts"`
}

// Coverage is how much of the checklist a run decided.
type Coverage struct {
	// Items is the number of checklist items (Checklist plus any item of the
	// catalogue not on it).
	Items int `json:"items"`
	// Decided is Met + NotMet.
	Decided    int `json:"decided"`
	Met        int `json:"met"`
	NotMet     int `json:"notMet"`
	Unverified int `json:"unverified"`
	// Percent is 100·Decided/Items, one decimal; nil when Items is 0.
	Percent *float64 `json:"percent"`
}

// valuation says what a finding of a check contributes; ok is false for
// findings the tally leaves out.
type valuation func(c Check, s Status) (v float64, ok bool)

// observedValue: pass 1, warn ½, fail 0; unknown and not-applicable left out.
func observedValue(_ Check, s Status) (float64, bool) {
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

// provenValue: as observed, but unknown counts 0, and so does the
// not-applicable finding of a Required check.
func provenValue(c Check, s Status) (float64, bool) {
	switch s {
	case Unknown:
		return 0, true
	case NotApplicable:
		if _, req := Required(c.ID); req {
			return 0, true
		}
		return 0, false
	}
	return observedValue(c, s)
}

// ComputeScore scores findings against the catalogue they came from: the
// observed and proven scores, the checklist's coverage and the counts.
//
// A check's score is the mean of the values of its findings (pass 1, warn
// ½, fail 0), or their minimum for a critical check: one failing subject
// fails it. A group's score is the severity-weighted mean of its checks'
// scores (critical 10, high 5, medium 3, low 1), held at CriticalCap while
// a critical check of the group scores 0; the overall score is the same
// over all checks, capped when any group is. The observed score leaves
// unknown and not-applicable findings out, and a check without a scored
// finding; the proven score counts unknown, a Required check's
// not-applicable and a check with no finding at all as 0. Scores are
// percentages rounded to one decimal.
func ComputeScore(cat []Check, findings []Finding) Score {
	s := Score{Counts: map[Status]int{}}
	for _, st := range []Status{Pass, Fail, Warn, NotApplicable, Unknown} {
		s.Counts[st] = 0
	}
	for _, f := range findings {
		s.Counts[f.Status]++
	}
	s.Tally = tally(cat, findings, observedValue, false)
	s.Proven = tally(cat, findings, provenValue, true)
	s.Coverage = coverageOf(Verdicts(cat, findings))
	return s
}

// tally scores findings under one valuation; missingIsZero scores a check
// of cat with no finding at all as 0 instead of leaving it out.
func tally(cat []Check, findings []Finding, value valuation, missingIsZero bool) Tally {
	byCheck := map[string][]Finding{}
	for _, f := range findings {
		byCheck[f.Check] = append(byCheck[f.Check], f)
	}
	t := Tally{Groups: map[Group]*float64{}, Capped: map[Group][]string{}}
	groupSum, groupW := map[Group]float64{}, map[Group]float64{}
	var allSum, allW float64
	for _, c := range cat {
		var vals []float64
		for _, f := range byCheck[c.ID] {
			if v, ok := value(c, f.Status); ok {
				vals = append(vals, v)
			}
		}
		if len(byCheck[c.ID]) == 0 && missingIsZero {
			vals = []float64{0}
		}
		if len(vals) == 0 {
			continue
		}
		score := mean(vals)
		if c.Severity == Critical {
			score = slices.Min(vals)
			if score == 0 {
				t.Capped[c.Group] = append(t.Capped[c.Group], c.ID)
			}
		}
		w := c.Severity.Weight()
		groupSum[c.Group] += w * score
		groupW[c.Group] += w
		allSum += w * score
		allW += w
	}
	groups := append([]Group(nil), Groups...)
	for _, c := range cat {
		if !slices.Contains(groups, c.Group) {
			groups = append(groups, c.Group)
		}
	}
	for _, g := range groups {
		t.Groups[g] = percent(groupSum[g], groupW[g], len(t.Capped[g]) > 0)
	}
	t.Overall = percent(allSum, allW, len(t.Capped) > 0)
	return t
}

func coverageOf(vs []ItemVerdict) Coverage {
	c := Coverage{Items: len(vs)}
	for _, v := range vs {
		switch v.Verdict {
		case Met:
			c.Met++
		case NotMet:
			c.NotMet++
		default:
			c.Unverified++
		}
	}
	c.Decided = c.Met + c.NotMet
	if c.Items > 0 {
		p := math.Round(1000*float64(c.Decided)/float64(c.Items)) / 10
		c.Percent = &p
	}
	return c
}

func mean(vs []float64) float64 {
	var sum float64
	for _, v := range vs {
		sum += v
	}
	return sum / float64(len(vs))
}

// percent is 100·sum/weight rounded to one decimal, at most CriticalCap
// when capped; nil when nothing weighed.
func percent(sum, weight float64, capped bool) *float64 {
	if weight == 0 {
		return nil
	}
	v := math.Round(1000*sum/weight) / 10
	if capped {
		v = math.Min(v, CriticalCap)
	}
	return &v
}
