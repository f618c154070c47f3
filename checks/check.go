// Package checks is the seed's production-readiness checklist as code: a
// catalogue of checks, each a pure function from an Inventory to findings
// with evidence. It does no I/O and never imports client-go; cluster/ lists
// a live Inventory and checks/load reads one from manifests.
package checks

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Status is the outcome of evaluating one check against one resource.
type Status string

// The statuses a finding can have.
const (
	Pass          Status = "pass"
	Fail          Status = "fail"
	Warn          Status = "warn"
	NotApplicable Status = "not-applicable"
	Unknown       Status = "unknown"
)

// Severity ranks how much a failing check matters; it weighs the score.
type Severity string

// The severities, highest first.
const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
)

// Weight is the severity's weight in the score (docs/checks.md).
func (s Severity) Weight() float64 {
	switch s {
	case Critical:
		return 10
	case High:
		return 5
	case Medium:
		return 3
	case Low:
		return 1
	}
	return 0
}

// Group is a section of the seed's Production Readiness Checklist.
type Group string

// The checklist's three groups.
const (
	Security   Group = "Security"
	Compliance Group = "Compliance"
	Operations Group = "Operations"
)

// Groups lists the groups in the seed's order.
var Groups = []Group{Security, Compliance, Operations}

// Resource names the object a finding is about. Kind "Cluster" with no
// name means the cluster (or input) as a whole.
type Resource struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
}

// String renders the resource kubectl-style: Kind/namespace/name.
func (r Resource) String() string {
	switch {
	case r.Name == "":
		return r.Kind
	case r.Namespace == "":
		return r.Kind + "/" + r.Name
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}

// clusterResource is the subject of findings about the whole cluster.
var clusterResource = Resource{Kind: "Cluster"}

// Finding is one check's verdict on one resource.
type Finding struct {
	Check       string   `json:"check"`
	Status      Status   `json:"status"`
	Resource    Resource `json:"resource"`
	Evidence    string   `json:"evidence"`
	Remediation string   `json:"remediation"`
	// Attestation is the attestation that stands in for this finding (a pass that was
	// unknown), or one that no longer does and says why (the finding stays unknown); nil
	// when none was made (checks/attest).
	Attestation *Attested `json:"attestation,omitempty"`
}

// Check is one line of the catalogue.
type Check struct {
	// ID is stable: reports, suppressions and CI history key on it.
	ID    string `json:"id"`
	Title string `json:"title"`
	Group Group  `json:"group"`
	// Item is the line of the seed's checklist the check serves, verbatim.
	Item string `json:"item"`
	// PCI lists PCI-DSS v4.0 requirement references.
	PCI      []string `json:"pci"`
	Severity Severity `json:"severity"`
	// Rationale says why the check matters; Remediation what to do on failure.
	Rationale   string `json:"-"`
	Remediation string `json:"-"`
	// Needs lists the resources (Res* constants) the check reads; when one is
	// in Inventory.Forbidden the check reports unknown instead of running.
	Needs []string `json:"-"`
	// Eval is the check itself: a pure function of the inventory. Findings
	// it returns with an empty Check or Remediation get the check's own.
	Eval func(inv *Inventory) []Finding `json:"-"`
}

// Catalogue returns every check, in the seed checklist's order.
func Catalogue() []Check {
	var all []Check
	for _, part := range [][]Check{
		rbacChecks(), podSecurityChecks(), networkChecks(), meshChecks(),
		secretChecks(), exposureChecks(), auditChecks(), dataChecks(),
		monitoringChecks(), scalingChecks(), deliveryChecks(),
	} {
		all = append(all, part...)
	}
	return all
}

// Lookup returns the catalogue's check with the given ID.
func Lookup(id string) (Check, bool) {
	for _, c := range Catalogue() {
		if c.ID == id {
			return c, true
		}
	}
	return Check{}, false
}

// Run evaluates every check of cat against inv. Every check yields at least
// one finding: one with nothing to evaluate says not-applicable, one whose
// input could not be listed says unknown. Findings come in catalogue order,
// then by resource.
func Run(cat []Check, inv *Inventory) []Finding {
	// The checks only read inv, so they run on every core; the findings
	// are put back in the catalogue's order. They share what is derived
	// from inv through a copy of it: inv itself is the caller's.
	pass := *inv
	pass.derived = &derived{}
	inv = &pass
	per := make([][]Finding, len(cat))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(cat)) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(cat); i = int(next.Add(1)) - 1 {
				per[i] = Evaluate(cat[i], inv)
			}
		})
	}
	wg.Wait()
	var out []Finding
	for _, fs := range per {
		out = append(out, fs...)
	}
	return out
}

// Evaluate runs one check, filling defaults and guarding forbidden input.
func Evaluate(c Check, inv *Inventory) []Finding {
	var denied, failing []string
	for _, res := range c.Needs {
		if reason, ok := inv.Forbidden[res]; ok {
			denied = append(denied, fmt.Sprintf("no access to %s (%s)", res, reason))
		} else if reason, ok := inv.Failing[res]; ok {
			failing = append(failing, fmt.Sprintf("%s cannot be read (%s)", res, reason))
		}
	}
	if len(denied) > 0 {
		return []Finding{{Check: c.ID, Status: Unknown, Resource: clusterResource,
			Evidence: strings.Join(append(denied, failing...), "; "), Remediation: "grant vigil list/get on the resource, or run with an identity that has it"}}
	}
	if len(failing) > 0 {
		return []Finding{{Check: c.ID, Status: Unknown, Resource: clusterResource,
			Evidence: strings.Join(failing, "; "), Remediation: "repair the API that serves the resource (e.g. the aggregated APIService's backend); vigil reads it again once it answers"}}
	}
	fs := c.Eval(inv)
	if len(fs) == 0 {
		fs = []Finding{{Status: NotApplicable, Resource: clusterResource, Evidence: "nothing to evaluate in the inventory"}}
	}
	for i := range fs {
		fs[i].Check = c.ID
		if fs[i].Remediation == "" && (fs[i].Status == Fail || fs[i].Status == Warn || fs[i].Status == Unknown) {
			fs[i].Remediation = c.Remediation
		}
	}
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Resource.Kind, b.Resource.Kind),
			cmp.Compare(a.Resource.Namespace, b.Resource.Namespace),
			cmp.Compare(a.Resource.Name, b.Resource.Name))
	})
	return fs
}

// finding is a shorthand constructor used by the checks; evidence is a
// fmt format (data always goes through args).
func finding(s Status, r Resource, evidence string, args ...any) Finding {
	return Finding{Status: s, Resource: r, Evidence: fmt.Sprintf(evidence, args...)}
}

// failOrPass is the verdict of a check that collects problems on one
// resource: Fail with every problem as evidence, or Pass with the given
// evidence when there were none.
func failOrPass(r Resource, problems []string, passEvidence string, args ...any) Finding {
	if len(problems) > 0 {
		return finding(Fail, r, "%s", strings.Join(problems, "; "))
	}
	return finding(Pass, r, passEvidence, args...)
}
