package cmd

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/report"
	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/internal/termsafe"
	"github.com/vigil-k8s/vigil/internal/version"
)

// DefaultParallel is how many contexts vigil check --all-contexts evaluates at once. A
// context's check against a remote API server mostly waits on round trips, so the run takes
// about one context's time a wave: eight make a fleet of eight one wave (16 contexts behind a
// 40 ms round trip: 1.5 s at 4, 1.05 s at 8, 0.92 s at 16). Each context in flight holds its
// listing until evaluated, which bounds it: a cluster of 10,000 pods is 64 MB of live heap
// (190 MB RSS for the whole `vigil check --context`), the seeded estate 2–3 MB of RSS per
// context in flight. --parallel sets it.
const DefaultParallel = 8

// runFleet is vigil check --all-contexts: every context of the kubeconfig evaluated, at
// most o.Parallel at a time, each as `vigil check --context X` would (its own config
// settings, attestations and --timeout), then one report per context and the fleet
// summary. A context that cannot be evaluated is its error line, not the others' failure.
// Exit: ExitUsage when any context could not be evaluated, else ExitFindings when any
// context has a finding at or above --fail-on, else ExitOK.
func (o *CheckOptions) runFleet(ctx context.Context) error {
	names, err := o.contextNames()
	if err != nil {
		return err
	}
	resolver := cluster.NewContextResolver(o.ConfigFlags, version.UserAgent()) // one parse of the kubeconfig for every context
	runs := make([]report.Run, len(names))
	warnings := make([]bytes.Buffer, len(names))
	sem := make(chan struct{}, max(o.Parallel, 1))
	progress := startFleetProgress(o.fleetProgressTo(), len(names), time.Second, time.Now)
	if progress != nil {
		// API server warnings print above the progress line, not into it.
		cluster.SetWarnings(headlessLog, progress.above(o.ErrOut))
		defer cluster.SetWarnings(headlessLog, o.ErrOut)
	}
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			progress.begin(name)
			runs[i] = o.evaluateContext(ctx, name, resolver, &warnings[i])
			progress.end(name)
		})
	}
	wg.Wait()
	progress.close()
	// Warnings (a missing namespace, an expired attestation) after the runs, whole and
	// named by context, rather than interleaved.
	for i := range warnings {
		sc := bufio.NewScanner(&warnings[i])
		for sc.Scan() {
			fmt.Fprintf(o.ErrOut, "context %s: %s\n", termsafe.Line(names[i]), sc.Text())
		}
	}
	if err := report.WriteFleet(o.Out, o.Output, runs, report.Options{FailOn: checks.Status(o.FailOn), ShowPassed: o.ShowPassed}); err != nil {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("writing %s output: %w", o.Output, err)}
	}
	var unreachable []string
	findings := false
	for _, run := range runs {
		if run.Err != "" {
			unreachable = append(unreachable, run.Context)
		} else if o.reachesFailOn(*run.Report) {
			findings = true
		}
	}
	if len(unreachable) > 0 {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%d of %d contexts could not be evaluated: %s", len(unreachable), len(runs), termsafe.Line(strings.Join(unreachable, ", ")))}
	}
	if findings {
		return &ExitError{Code: ExitFindings}
	}
	return nil
}

// contextNames lists the kubeconfig's contexts, sorted.
func (o *CheckOptions) contextNames() ([]string, error) {
	if o.ConfigFlags == nil {
		return nil, usage("--all-contexts: no kube connection flags")
	}
	raw, err := o.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("--all-contexts: kubeconfig: %w", err)}
	}
	var names []string
	for name := range raw.Contexts {
		names = append(names, name)
	}
	if len(names) == 0 {
		return nil, usage("--all-contexts: the kubeconfig has no contexts")
	}
	slices.Sort(names)
	return names, nil
}

// evaluateContext evaluates one context as `vigil check --context name` does, connecting
// as resolver resolves it, writing its warnings to errOut; an error becomes the run's one
// line.
func (o *CheckOptions) evaluateContext(ctx context.Context, name string, resolver *cluster.ContextResolver, errOut *bytes.Buffer) report.Run {
	co := *o
	co.AllContexts = false
	co.ConfigFlags = cluster.FlagsFor(o.ConfigFlags, name)
	co.connect = sync.OnceValues(func() (cluster.Connection, error) { return resolver.Resolve(name) })
	co.contextName = func() string { return name }
	co.ErrOut = errOut
	co.Namespaces = slices.Clone(o.Namespaces)
	co.AllowedRegistries = slices.Clone(o.AllowedRegistries)
	run := report.Run{Context: name, At: time.Now()}
	changed := o.changed
	if changed == nil {
		changed = func(string) bool { return false }
	}
	err := co.complete(changed)
	if err == nil {
		var rep report.Report
		if rep, err = co.evaluate(ctx); err == nil {
			run.Report = &rep
			err = co.recordHistory(&rep, run.At) // each context's own history, as vigil check --context records it
		}
	}
	run.Duration = time.Since(run.At)
	if err != nil {
		var ee *ExitError
		if errors.As(err, &ee) && ee.Err != nil {
			err = ee.Err
		}
		run.Err = strings.Join(strings.Fields(err.Error()), " ")
	}
	return run
}
