package checks

import (
	"fmt"
	"slices"
	"strings"
)

// ChecklistItem is one line of the seed's Production Readiness Checklist.
type ChecklistItem struct {
	Group Group `json:"group"`
	// Section is the checklist's bold sub-heading ("Secrets Management").
	Section string `json:"section"`
	// Item is the line itself, verbatim; Check.Item refers to it.
	Item string `json:"item"`
}

// Checklist is the seed's Production Readiness Checklist, in its order
// (docs/checks.md; TestChecklistIsTheSeeds compares it with the seed).
var Checklist = func() []ChecklistItem {
	var out []ChecklistItem
	for _, s := range []struct {
		g       Group
		section string
		items   []string
	}{
		{Security, "Authentication & Authorization", []string{itemRBAC, itemPSS, itemNetPolicies, itemMTLS}},
		{Security, "Secrets Management", []string{itemESO, itemAtRest, itemRotation, itemNoInImages}},
		{Security, "Network Security", []string{itemDenyDefault, itemIngressTLS, itemMeshEncryption, itemRegistry}},
		{Compliance, "Audit and Logging", []string{itemAuditLogging, itemLogAggregation, itemLogRetention, itemSecurityEvents}},
		{Compliance, "Data Protection", []string{itemTransitAtRest, itemPII, itemBackupDR, itemSovereignty}},
		{Operations, "Monitoring and Alerting", []string{itemPrometheus, itemGrafana, itemAlertRules, itemOnCall}},
		{Operations, "Scaling and Performance", []string{itemHPA, itemVPA, itemAutoscaler, itemLimits}},
		{Operations, "Deployment and Recovery", []string{itemGitOps, itemRolling, itemRollback, itemDR}},
	} {
		for _, it := range s.items {
			out = append(out, ChecklistItem{Group: s.g, Section: s.section, Item: it})
		}
	}
	return out
}()

// requiredReasons names the checks whose not-applicable finding counts 0 in
// the proven score and leaves their item unverified: the checklist requires
// what they look for to exist, so "absent" or "nothing to evaluate" proves
// nothing. Every other check's not-applicable finding (no Ingress, so no
// Ingress without TLS) leaves both scores. docs/checks.md lists them.
var requiredReasons = map[string]string{
	"mesh-peer-authentication-strict":    "the checklist requires a service mesh with mTLS: no Istio is no mTLS",
	"mesh-destination-rule-istio-mutual": "the checklist requires service-mesh traffic encryption: no Istio is no encryption",
	"secrets-external-secret-ready":      "the checklist requires the External Secrets Operator configured",
	"net-default-deny":                   "every namespace must deny by default: no namespace evaluated is nothing shown",
	"secrets-encrypted-at-rest":          "a cluster-wide requirement: nothing evaluated proves nothing",
	"audit-apiserver-policy":             "a cluster-wide requirement: nothing evaluated proves nothing",
	"logs-centralized":                   "a cluster-wide requirement: nothing evaluated proves nothing",
	"logs-retention":                     "a cluster-wide requirement: nothing evaluated proves nothing",
	"security-event-monitoring":          "a cluster-wide requirement: nothing evaluated proves nothing",
	"data-encrypted-at-rest":             "a cluster-wide requirement: nothing evaluated proves nothing",
	"data-pii-procedures":                "a cluster-wide requirement: nothing evaluated proves nothing",
	"data-sovereignty":                   "a cluster-wide requirement: nothing evaluated proves nothing",
	"monitoring-grafana-dashboards":      "a cluster-wide requirement: nothing evaluated proves nothing",
	"monitoring-alert-rules-defined":     "a cluster-wide requirement: nothing evaluated proves nothing",
	"monitoring-alertmanager":            "a cluster-wide requirement: nothing evaluated proves nothing",
	"monitoring-on-call":                 "a cluster-wide requirement: nothing evaluated proves nothing",
	"ops-cluster-autoscaler":             "a cluster-wide requirement: nothing evaluated proves nothing",
	"ops-rollback-tested":                "a cluster-wide requirement: nothing evaluated proves nothing",
	"ops-dr-plan":                        "a cluster-wide requirement: nothing evaluated proves nothing",
}

// Required reports whether the checklist requires what check id looks for
// to exist, so that its not-applicable finding is no evidence (it counts 0
// in the proven score), and says why.
func Required(id string) (reason string, ok bool) {
	reason, ok = requiredReasons[id]
	return reason, ok
}

// RequiredChecks lists the IDs Required holds, sorted.
func RequiredChecks() []string {
	var ids []string
	for id := range requiredReasons {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Verdict is a checklist item's outcome.
type Verdict string

// The verdicts an item can have.
const (
	// Met: every check of the item that had something to judge passed, and at least one did.
	Met Verdict = "met"
	// NotMet: a check of the item failed.
	NotMet Verdict = "not-met"
	// Unverified: no failure, but something the item needs was not shown
	// (unknown, warn, required but absent, or nothing evaluated).
	Unverified Verdict = "unverified"
)

// ItemVerdict is the verdict on one checklist item, with why.
type ItemVerdict struct {
	ChecklistItem
	Verdict Verdict `json:"verdict"`
	// Checks are the IDs of the run's checks that serve the item.
	Checks []string `json:"checks"`
	// Why says what decided the verdict: the failing or passing checks
	// with their counts.
	Why string `json:"why"`
	// Needed is, for an unverified item, the evidence that would decide it:
	// one line per undecided check (what it could not see, from its
	// findings).
	Needed []string `json:"needed,omitempty"`
	// Attestations are the attestations made for the item or its checks
	// (vigil attest): those that hold stand in for unknown findings, those
	// that no longer hold say why (expired, file altered).
	Attestations []Attested `json:"attestations,omitempty"`
}

// maxNeededExamples bounds the findings quoted per undecided check.
const maxNeededExamples = 2

// Verdicts decides every checklist item from the findings of cat's checks:
// an item with a failing check is not met; else one with a check that is
// unknown, warns, is required but not applicable, or produced no finding
// is unverified; else one with a passing check is met; an item whose checks
// only found nothing to evaluate, or that no check of cat serves, is
// unverified. Items of cat that are not on the seed's checklist follow it.
func Verdicts(cat []Check, findings []Finding) []ItemVerdict {
	byCheck := map[string][]Finding{}
	for _, f := range findings {
		byCheck[f.Check] = append(byCheck[f.Check], f)
	}
	items := append([]ChecklistItem(nil), Checklist...)
	for _, c := range cat {
		if !slices.ContainsFunc(items, func(it ChecklistItem) bool { return it.Group == c.Group && it.Item == c.Item }) {
			items = append(items, ChecklistItem{Group: c.Group, Item: c.Item})
		}
	}
	out := make([]ItemVerdict, 0, len(items))
	for _, it := range items {
		v := ItemVerdict{ChecklistItem: it, Checks: []string{}}
		var failing, passing, undecided, vacuous []string
		allAttested := true // every passing check's passes are attested
		for _, c := range cat {
			if c.Group != it.Group || c.Item != it.Item {
				continue
			}
			v.Checks = append(v.Checks, c.ID)
			fs := byCheck[c.ID]
			n := map[Status]int{}
			for _, f := range fs {
				n[f.Status]++
			}
			_, required := Required(c.ID)
			switch {
			case n[Fail] > 0:
				failing = append(failing, fmt.Sprintf("%s: %d of %d findings fail", c.ID, n[Fail], len(fs)))
			case len(fs) == 0:
				undecided = append(undecided, c.ID+": not evaluated (no finding)")
			case n[Unknown] > 0 || n[Warn] > 0 || (required && n[NotApplicable] > 0):
				undecided = append(undecided, needed(c, fs, required))
			case n[Pass] > 0:
				line, attested := passLine(c.ID, fs, n[Pass])
				passing = append(passing, line)
				allAttested = allAttested && attested
			default:
				vacuous = append(vacuous, fmt.Sprintf("%s: %s", c.ID, fs[0].Evidence))
			}
		}
		var reverted []string
		for _, id := range v.Checks {
			for _, f := range byCheck[id] {
				if a := f.Attestation; a != nil && !slices.ContainsFunc(v.Attestations, a.same) {
					v.Attestations = append(v.Attestations, *a)
					if !a.Holds {
						reverted = append(reverted, a.revertedText())
					}
				}
			}
		}
		switch {
		case len(failing) > 0:
			v.Verdict, v.Why = NotMet, strings.Join(failing, "; ")
		case len(undecided) > 0:
			v.Verdict, v.Needed = Unverified, undecided
			v.Why = fmt.Sprintf("%d of %d checks undecided", len(undecided), len(v.Checks))
			for _, r := range reverted {
				v.Why += "; " + r
			}
		case len(passing) > 0:
			v.Verdict, v.Why = Met, strings.Join(passing, "; ")
			if only := onlyAttestation(v.Attestations); only != nil && allAttested {
				// One attestation decided the item: it reads "met — attested by …".
				v.Why = only.String()
			}
		case len(v.Checks) == 0:
			v.Verdict, v.Why = Unverified, "no check of this run serves the item"
			v.Needed = []string{"run the checks of this item (docs/checks.md), or evidence from outside vigil"}
		default:
			v.Verdict, v.Why = Unverified, "nothing to evaluate"
			for _, s := range vacuous {
				v.Needed = append(v.Needed, s+": show the objects the item is about (other namespaces or manifests)")
			}
		}
		out = append(out, v)
	}
	return out
}

// needed is one undecided check's line of evidence needed: its undecided
// findings' counts and the first few of them, whose evidence says what
// vigil could not see.
func needed(c Check, fs []Finding, required bool) string {
	var parts, examples []string
	for _, st := range []Status{Unknown, Warn, NotApplicable} {
		if st == NotApplicable && !required {
			continue
		}
		k := 0
		for _, f := range fs {
			if f.Status != st {
				continue
			}
			k++
			if len(examples) < maxNeededExamples {
				ex := f.Resource.String() + ": " + f.Evidence
				if st == NotApplicable {
					ex += " (" + requiredReasons[c.ID] + ")"
				}
				examples = append(examples, ex)
			}
		}
		if k > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", k, st))
		}
	}
	s := fmt.Sprintf("%s (%s): %s", c.ID, strings.Join(parts, ", "), strings.Join(examples, " | "))
	if more := countUndecided(fs, required) - len(examples); more > 0 {
		s += fmt.Sprintf(" | and %d more", more)
	}
	return s
}

func countUndecided(fs []Finding, required bool) int {
	n := 0
	for _, f := range fs {
		if f.Status == Unknown || f.Status == Warn || (required && f.Status == NotApplicable) {
			n++
		}
	}
	return n
}

// passLine is a passing check's line of an item's why: its count of passes,
// or the attestation that stands in for what vigil could not see; attested
// is true when every pass is attested.
func passLine(id string, fs []Finding, pass int) (line string, attested bool) {
	var by []string
	k := 0
	for _, f := range fs {
		if a := f.Attestation; a != nil && a.Holds && f.Status == Pass {
			k++
			if s := a.String(); !slices.Contains(by, s) {
				by = append(by, s)
			}
		}
	}
	switch {
	case k == 0:
		return fmt.Sprintf("%s: %d pass", id, pass), false
	case k == pass:
		return fmt.Sprintf("%s: %s", id, strings.Join(by, ", ")), true
	}
	return fmt.Sprintf("%s: %d pass, %d of them %s", id, pass, k, strings.Join(by, ", ")), false
}

// onlyAttestation is the one attestation of an item that holds, nil when
// none or several do.
func onlyAttestation(as []Attested) *Attested {
	var only *Attested
	for i := range as {
		if !as[i].Holds {
			continue
		}
		if only != nil {
			return nil
		}
		only = &as[i]
	}
	return only
}
