package spec

import "strings"

// Preview is what an operator sees before confirming.
type Preview struct {
	// Summary is one line: what will happen.
	Summary string
	// Details are the lines of the difference (images, env names, resources, probes …).
	Details []string
	// Warnings are things to read twice (an HPA owns the replicas, pods will restart …).
	Warnings []string
	// DryRun is the outcome of the server-side dry run ("server dry-run: ok", or why none).
	DryRun string
	// Namespaces are other namespaces the action changes (an Argo CD application's
	// destination), considered when deciding whether the object is protected.
	Namespaces []string
	// Unpinned, when set, says why the change's reach cannot be bounded to known
	// namespaces (a silence without a namespace matcher, an Argo CD application
	// deploying to another cluster): the object is then treated as protected.
	Unpinned string
	// Outsized, when set, says why the change is far larger than its kind usually is (a
	// scale to a hundred times the replicas: a typo at 3 a.m. as often as a need): the object
	// is then treated as protected, so the typed target confirms it.
	Outsized string
	// Plan is what execution will do, exactly as previewed and confirmed (the
	// revision, the matchers, the resourceVersion it was computed from), as
	// key=value lines for the audit record.
	Plan []string
}

// String renders the preview as plain text for a terminal or a runbook log.
func (p Preview) String() string {
	var b strings.Builder
	b.WriteString(p.Summary)
	b.WriteByte('\n')
	for _, d := range p.Details {
		b.WriteString("  " + d + "\n")
	}
	for _, w := range p.Warnings {
		b.WriteString("  warning: " + w + "\n")
	}
	if p.DryRun != "" {
		b.WriteString("  " + p.DryRun + "\n")
	}
	return b.String()
}

// Result is what an executed action reports.
type Result struct {
	// Message is the outcome in a line ("rolled back", "synced to 11a4ab0 requested" …).
	Message string
	// Verified says what the verify step observed.
	Verified string
	// Operation is what became of the operation the action requested, as
	// its controller reported it ("Argo CD operation Succeeded: successfully
	// synced"), or why that is not known; empty when it requested none.
	Operation string
}
