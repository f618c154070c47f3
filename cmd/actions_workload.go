package cmd

import (
	"github.com/spf13/cobra"

	"github.com/vigil-k8s/vigil/actions"
	"github.com/vigil-k8s/vigil/actions/spec"
)

func (o *actionOptions) rollbackCommand() *cobra.Command {
	var rev int64
	var g gitopsFlags
	c := &cobra.Command{
		Use:   "rollback TYPE/NAME",
		Short: "Roll a Deployment, StatefulSet or DaemonSet back, like kubectl rollout undo, through vigil's guards",
		Example: actionExample(
			"vigil rollback deploy/payment-service -n fintech-prod --dry-run",
			"vigil rollback deploy/payment-service -n fintech-prod --to-revision 2 --reason INC-123 --confirm local-1/fintech-prod/payment-service",
			"vigil rollback deploy/payment-service -n fintech-prod --to-revision 2 --suspend-auto-sync 30m --reason INC-123 --confirm local-1/fintech-prod/payment-service"),
		Args: cobra.ExactArgs(1), SilenceUsage: true,
		RunE: func(c *cobra.Command, args []string) error {
			if err := g.validate(); err != nil {
				return err
			}
			if g.suspendFor > 0 {
				return o.runFlowOnWorkload(c, args[0], actions.EmergencyRollbackParams{ToRevision: rev, SuspendFor: g.suspendFor, HealthyWithin: g.healthyWithin})
			}
			return o.runOnWorkload(func(env *actions.Env) *actions.Action {
				return actions.Rollback(env, spec.RollbackParams{ToRevision: rev, GitOpsParams: spec.GitOpsParams{AgainstGitOps: g.against}})
			})(c, args)
		},
	}
	o.addFlags(c, true)
	g.add(c, true)
	c.Flags().Int64Var(&rev, "to-revision", 0, "revision to return to (default: the previous one)")
	return c
}

func (o *actionOptions) restartCommand() *cobra.Command {
	c := &cobra.Command{
		Use:     "restart TYPE/NAME",
		Short:   "Restart a workload's pods, like kubectl rollout restart, through vigil's guards",
		Example: actionExample("vigil restart deploy/api-gateway -n fintech-prod --reason INC-9 --confirm local-1/fintech-prod/api-gateway"),
		Args:    cobra.ExactArgs(1), SilenceUsage: true,
		RunE: o.runOnWorkload(actions.Restart),
	}
	o.addFlags(c, true)
	return c
}

func (o *actionOptions) scaleCommand() *cobra.Command {
	var replicas int32
	var g gitopsFlags
	c := &cobra.Command{
		Use:     "scale TYPE/NAME --replicas N",
		Short:   "Scale a Deployment or StatefulSet through vigil's guards (warns when an HPA owns the replicas)",
		Example: actionExample("vigil scale deploy/payment-service -n fintech-staging --replicas 3 --confirm yes"),
		Args:    cobra.ExactArgs(1), SilenceUsage: true,
		RunE: o.runOnWorkload(func(env *actions.Env) *actions.Action {
			return actions.Scale(env, spec.ScaleParams{Replicas: replicas, GitOpsParams: spec.GitOpsParams{AgainstGitOps: g.against}})
		}),
	}
	o.addFlags(c, true)
	g.add(c, false)
	c.Flags().Int32Var(&replicas, "replicas", -1, "the new replica count")
	_ = c.MarkFlagRequired("replicas")
	return c
}

// runOnWorkload is the RunE of the commands whose one argument is a
// TYPE/NAME workload: it resolves the target and the environment, then runs
// the action that action builds from that environment.
func (o *actionOptions) runOnWorkload(action func(env *actions.Env) *actions.Action) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error {
		t, err := o.workloadTarget(args[0])
		if err != nil {
			return err
		}
		env, err := o.env()
		if err != nil {
			return err
		}
		return o.run(c.Context(), env, action(env), t)
	}
}

// runFlowOnWorkload runs the guided emergency rollback on a TYPE/NAME workload.
func (o *actionOptions) runFlowOnWorkload(c *cobra.Command, ref string, ep actions.EmergencyRollbackParams) error {
	t, err := o.workloadTarget(ref)
	if err != nil {
		return err
	}
	env, err := o.env()
	if err != nil {
		return err
	}
	return o.runEmergencyRollback(c.Context(), env, t, ep)
}
