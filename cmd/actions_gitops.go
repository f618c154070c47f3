package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-k8s/vigil/actions"
	"github.com/vigil-k8s/vigil/actions/spec"
)

// gitopsFlags are the rollback's and scale's answers to an Argo CD app whose self-heal would
// undo them: suspend automated sync first (the guided emergency rollback), or go against
// GitOps knowingly. Without either, such a change is refused.
type gitopsFlags struct {
	suspendFor    time.Duration
	against       bool
	healthyWithin time.Duration
}

func (f *gitopsFlags) add(c *cobra.Command, suspend bool) {
	c.Flags().BoolVar(&f.against, "against-gitops", false, "let the change through even though Argo CD's self-heal will undo it: the drift is recorded knowingly in the audit log")
	if suspend {
		c.Flags().DurationVar(&f.suspendFor, "suspend-auto-sync", 0, "the guided emergency rollback: suspend automated sync of the workload's Argo CD app for this long, roll back, verify healthy (one confirmation; each step audited)")
		c.Flags().DurationVar(&f.healthyWithin, "healthy-within", 3*time.Minute, "with --suspend-auto-sync: how long the verify step waits for the rollout")
	}
}

func (f *gitopsFlags) validate() error {
	if f.against && f.suspendFor != 0 {
		return fmt.Errorf("--against-gitops and --suspend-auto-sync exclude each other: suspend, or go against GitOps")
	}
	if f.suspendFor < 0 || f.suspendFor > actions.MaxSuspension {
		return fmt.Errorf("--suspend-auto-sync %s: want a duration up to %s", f.suspendFor, actions.MaxSuspension)
	}
	return nil
}

// runEmergencyRollback runs the guided emergency rollback and prints its plan, progress and
// outcome, as run does for one action.
func (o *actionOptions) runEmergencyRollback(ctx context.Context, env *actions.Env, t spec.Object, ep actions.EmergencyRollbackParams) error {
	p, path, err := o.pipeline(env)
	if err != nil {
		return err
	}
	out, err := p.EmergencyRollback(ctx, t, ep, spec.Request{Reason: o.reason, DryRun: o.dryRun, Timeout: o.timeout, Progress: func(e spec.Progress) {
		if e.Message != "" && e.Stage == spec.StageExecute {
			fmt.Fprintf(o.errOut, "[%s] %s\n", e.Stage, e.Message)
		}
	}})
	if out.Preview.Summary != "" && (o.dryRun || o.confirm != "") {
		fmt.Fprint(o.out, out.Preview.String())
	}
	if err != nil {
		return fmt.Errorf("%s %s in %s: %w (attempt %s, audit log %s)", actions.EmergencyRollbackID, t, env.Context, err, out.Attempt, path)
	}
	if out.DryRunOnly {
		fmt.Fprintf(o.out, "dry run: nothing changed (attempt %s recorded in %s)\n", out.Attempt, path)
		return nil
	}
	fmt.Fprintf(o.out, "%s\nverified: %s\n", out.Result.Message, out.Result.Verified)
	return nil
}

// autoSyncCommands are `argo suspend-auto-sync APP --for D` and `argo resume-auto-sync APP`.
func (o *actionOptions) autoSyncCommands() []*cobra.Command {
	var d time.Duration
	suspend := &cobra.Command{
		Use:   "suspend-auto-sync APP --for DURATION",
		Short: "Suspend an Argo CD application's automated sync, as argocd app set APP --sync-policy none does, keeping the policy to re-enable",
		Example: actionExample(
			"vigil argo suspend-auto-sync fintech-app --for 30m --reason INC-7 --confirm local-1/argocd/fintech-app"),
		Args: cobra.ExactArgs(1), SilenceUsage: true,
		RunE: func(c *cobra.Command, args []string) error {
			env, err := o.env()
			if err != nil {
				return err
			}
			t := spec.Object{Kind: spec.KindApplication, Namespace: o.ns("argocd"), Name: args[0]}
			return o.run(c.Context(), env, actions.SuspendAutoSync(env, spec.SuspendAutoSyncParams{For: d}), t)
		},
	}
	o.addFlags(suspend, true)
	suspend.Flags().DurationVar(&d, "for", 0, "how long (the header reminds until then; re-enabling is an action)")
	_ = suspend.MarkFlagRequired("for")
	resume := &cobra.Command{
		Use:     "resume-auto-sync APP",
		Short:   "Re-enable the automated sync vigil suspended, restoring the policy exactly",
		Example: actionExample("vigil argo resume-auto-sync fintech-app --reason INC-7 --confirm local-1/argocd/fintech-app"),
		Args:    cobra.ExactArgs(1), SilenceUsage: true,
		RunE: func(c *cobra.Command, args []string) error {
			env, err := o.env()
			if err != nil {
				return err
			}
			t := spec.Object{Kind: spec.KindApplication, Namespace: o.ns("argocd"), Name: args[0]}
			return o.run(c.Context(), env, actions.ResumeAutoSync(env), t)
		},
	}
	o.addFlags(resume, true)
	return []*cobra.Command{suspend, resume}
}
