package spec

import (
	"fmt"
	"time"
)

// Params are what one action is asked to do; their type says which action. The actions
// package builds the guarded action from them (actions.New).
type Params interface {
	// About names the action and says whether it is dangerous.
	About() About
	// String is the parameters as the audit log records them ("to-revision=3").
	String() string
}

// About is what an action is, whatever it acts on: the UI draws a dangerous one in the
// critical style, and the confirmation never takes a default answer for it.
type About struct {
	// ID is stable, used in the audit log and the CLI (rollback, restart, scale, argo-sync …).
	ID string
	// Title is the human name shown in menus and on the confirmation.
	Title string
	// Dangerous actions are highlighted and never take a default answer.
	Dangerous bool
}

// RestartParams restart a workload's pods, as `kubectl rollout restart` does.
type RestartParams struct{}

// About implements Params.
func (RestartParams) About() About { return About{ID: "restart", Title: "Restart", Dangerous: true} }

// String implements Params.
func (RestartParams) String() string { return "" }

// GitOpsParams are how a direct change of a workload Argo CD manages treats GitOps.
type GitOpsParams struct {
	// AgainstGitOps lets a rollback or scale through that self-heal would undo: the operator
	// records the drift knowingly (--against-gitops). The audit record's params say so.
	AgainstGitOps bool
}

// RollbackParams roll a workload back, as `kubectl rollout undo` does.
type RollbackParams struct {
	// ToRevision is the revision to return to; 0 means the previous one (kubectl's default).
	ToRevision int64
	// GitOpsParams: whether to go against an Argo CD app's self-heal.
	GitOpsParams
}

// About implements Params.
func (RollbackParams) About() About {
	return About{ID: "rollback", Title: "Roll back", Dangerous: true}
}

// String implements Params.
func (p RollbackParams) String() string {
	if p.ToRevision == 0 {
		return "to-revision=previous"
	}
	return fmt.Sprintf("to-revision=%d", p.ToRevision)
}

// ScaleParams set a Deployment's or StatefulSet's replicas.
type ScaleParams struct {
	// Replicas is the new replica count.
	Replicas int32
	// GitOpsParams: whether to go against an Argo CD app's self-heal.
	GitOpsParams
}

// About implements Params.
func (ScaleParams) About() About { return About{ID: "scale", Title: "Scale", Dangerous: true} }

// String implements Params.
func (p ScaleParams) String() string { return fmt.Sprintf("replicas=%d", p.Replicas) }

// SecretRefreshParams make the External Secrets Operator fetch an ExternalSecret again now.
type SecretRefreshParams struct {
	// Timeout bounds the wait for the controller to refresh (status.refreshTime to move);
	// default 60 s.
	Timeout time.Duration
	// Interval is the polling interval; default 500 ms.
	Interval time.Duration
	// RestartConsumers restarts, after the refresh, the workloads that mount the target
	// Secret or take it through envFrom or env valueFrom (they are listed in the preview).
	RestartConsumers bool
}

// About implements Params.
func (SecretRefreshParams) About() About {
	return About{ID: "secret-refresh", Title: "Refresh secret"}
}

// WithDefaults fills in the default Timeout and Interval.
func (p SecretRefreshParams) WithDefaults() SecretRefreshParams {
	if p.Timeout <= 0 {
		p.Timeout = time.Minute
	}
	if p.Interval <= 0 {
		p.Interval = 500 * time.Millisecond
	}
	return p
}

// String implements Params.
func (p SecretRefreshParams) String() string {
	return fmt.Sprintf("restart-consumers=%v timeout=%s", p.RestartConsumers, p.WithDefaults().Timeout)
}

// ArgoSyncParams ask Argo CD to sync an application.
type ArgoSyncParams struct {
	// Revision to sync to; empty means the application's targetRevision.
	Revision string
	// Prune deletes resources no longer in Git.
	Prune bool
}

// About implements Params.
func (ArgoSyncParams) About() About {
	return About{ID: "argo-sync", Title: "Argo CD sync", Dangerous: true}
}

// String implements Params.
func (p ArgoSyncParams) String() string {
	return fmt.Sprintf("revision=%s prune=%v", p.Revision, p.Prune)
}

// ArgoRollbackParams roll an Argo CD application back to a status.history entry.
type ArgoRollbackParams struct {
	// ID is the status.history entry to return to.
	ID int64
	// Prune deletes resources no longer in the target revision.
	Prune bool
}

// About implements Params.
func (ArgoRollbackParams) About() About {
	return About{ID: "argo-rollback", Title: "Argo CD rollback", Dangerous: true}
}

// String implements Params.
func (p ArgoRollbackParams) String() string { return fmt.Sprintf("id=%d prune=%v", p.ID, p.Prune) }

// SilenceParams silence an alert in Alertmanager.
type SilenceParams struct {
	// Duration is how long the silence lasts from now.
	Duration time.Duration
	// Labels, when set, are the matchers (the alert the operator picked); otherwise they are
	// the labels common to the firing alerts with the object's alertname (and namespace).
	Labels map[string]string
}

// About implements Params.
func (SilenceParams) About() About { return About{ID: "silence", Title: "Silence alert"} }

// String implements Params.
func (p SilenceParams) String() string { return "duration=" + p.Duration.String() }

// ExpireSilenceParams expire an Alertmanager silence (the Object's Name is its ID).
type ExpireSilenceParams struct{}

// About implements Params.
func (ExpireSilenceParams) About() About {
	return About{ID: "silence-expire", Title: "Expire silence"}
}

// String implements Params.
func (ExpireSilenceParams) String() string { return "" }

// SuspendAutoSyncParams suspend an Argo CD application's automated sync for a while.
type SuspendAutoSyncParams struct {
	// For is how long automated sync stays suspended; the header reminds until then, and
	// after it says the time is up (vigil does not re-enable on its own: that is an action).
	For time.Duration
}

// About implements Params.
func (SuspendAutoSyncParams) About() About {
	return About{ID: "argo-suspend-auto-sync", Title: "Suspend Argo CD auto-sync", Dangerous: true}
}

// String implements Params.
func (p SuspendAutoSyncParams) String() string { return "for=" + p.For.String() }

// ResumeAutoSyncParams re-enable the automated sync a suspension removed, exactly as it was.
type ResumeAutoSyncParams struct{}

// About implements Params.
func (ResumeAutoSyncParams) About() About {
	return About{ID: "argo-resume-auto-sync", Title: "Re-enable Argo CD auto-sync", Dangerous: true}
}

// String implements Params.
func (ResumeAutoSyncParams) String() string { return "" }

// EmergencyRollbackParams run the guided emergency rollback of a workload an Argo CD app
// manages with automated sync: suspend the app's automated sync for SuspendFor, roll the
// workload back to ToRevision, verify it healthy within HealthyWithin; one typed
// confirmation with a reason, each step its own audited attempt.
type EmergencyRollbackParams struct {
	// ToRevision is the workload revision to return to; 0 means the previous one.
	ToRevision int64
	// SuspendFor is how long automated sync of the managing Argo CD app stays suspended.
	SuspendFor time.Duration
	// HealthyWithin bounds the verify step (default 3 minutes).
	HealthyWithin time.Duration
}

// About implements Params.
func (EmergencyRollbackParams) About() About {
	return About{ID: "emergency-rollback", Title: "Emergency rollback", Dangerous: true}
}

// String implements Params.
func (p EmergencyRollbackParams) String() string {
	rev := "previous"
	if p.ToRevision != 0 {
		rev = fmt.Sprint(p.ToRevision)
	}
	return "to-revision=" + rev + " suspend-for=" + p.SuspendFor.String()
}
