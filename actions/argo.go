package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-k8s/vigil/actions/spec"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ErrArgoOperationInProgress is Argo CD's "another operation is already in progress".
var ErrArgoOperationInProgress = errors.New("another operation is already in progress")

// ArgoSync returns the action that asks Argo CD to sync an application (Object: Kind
// Application, its namespace and name). With env.Argo set it goes through Argo CD's REST API
// (server mode); otherwise it writes `.operation` through the Kubernetes API exactly as
// argocd-server's Sync does (util/argo SetAppOperation): refused while an operation runs,
// sync with revision, prune, the app's syncOptions and retry, initiatedBy.username = the kube
// user, status.operationState cleared, retried on conflict. Sync windows are honoured.
// One difference remains: without a revision, argocd-server resolves the targetRevision
// (e.g. "main") to a commit through its repo-server; in Kubernetes mode vigil writes the
// symbolic revision and Argo CD's controller resolves it when it runs the operation.
func ArgoSync(env *Env, p spec.ArgoSyncParams) *Action {
	a := newAction(env, p, nil)
	build := func(app *argoApp, user string) (argoOperation, string, error) {
		target, _, _ := unstructured.NestedString(app.source, "targetRevision")
		if target == "" {
			target = "HEAD"
		}
		rev := p.Revision
		if rev == "" {
			rev = target
		}
		// argocd-server's own rule (server/application Sync): under auto-sync only the
		// target revision may be synced, or the next auto-sync undoes it.
		if app.automated && p.Revision != "" && p.Revision != target {
			return argoOperation{}, "", fmt.Errorf("cannot sync to %s: auto-sync currently set to %s", p.Revision, target)
		}
		op := argoOperation{Sync: &argoSyncOperation{Revision: rev, Prune: p.Prune, SyncOptions: app.syncOptions},
			InitiatedBy: argoInitiator{Username: user}, Retry: app.retry}
		if len(app.sources) == 0 {
			op.Sync.Source = app.source
		} else {
			op.Sync.Sources = app.sources
			op.Sync.Revision = ""
			for _, s := range app.sources {
				r, _, _ := unstructured.NestedString(s, "targetRevision")
				op.Sync.Revisions = append(op.Sync.Revisions, r)
			}
		}
		return op, fmt.Sprintf("sync %s to %s (prune=%v)", app.name, rev, p.Prune), nil
	}
	body := map[string]any{"revision": p.Revision, "prune": p.Prune}
	argoSteps(a, env, false, 0, build, "sync", body)
	argoSyncDiff(a, env, p.Revision)
	return a
}

// ArgoRollback returns the action that rolls an Argo CD application back to a history entry,
// as argocd-server's Rollback does: a sync to status.history[id]'s revision(s) and
// source(s) with the apply strategy, refused when automated sync is on ("rollback cannot be
// initiated when auto-sync is enabled").
func ArgoRollback(env *Env, p spec.ArgoRollbackParams) *Action {
	a := newAction(env, p, nil)
	build := func(app *argoApp, user string) (argoOperation, string, error) {
		h := app.historyEntry(p.ID)
		if h == nil {
			return argoOperation{}, "", fmt.Errorf("application %s does not have deployment with id %d", app.name, p.ID)
		}
		src := h.Source
		if src == nil {
			src = map[string]any{"repoURL": ""} // Argo sends &deploymentInfo.Source even when zero
		}
		op := argoOperation{Sync: &argoSyncOperation{
			Revision: h.Revision, Revisions: h.Revisions, Prune: p.Prune, SyncOptions: app.syncOptions,
			SyncStrategy: &argoSyncStrategy{Apply: &argoSyncStrategyApply{}}, Source: src, Sources: h.Sources,
		}, InitiatedBy: argoInitiator{Username: user}}
		return op, fmt.Sprintf("roll %s back to history %d: %s (deployed %s)", app.name, p.ID, short(h.Revision), h.DeployedAt), nil
	}
	body := map[string]any{"id": p.ID, "prune": p.Prune}
	argoSteps(a, env, true, p.ID, build, "rollback", body)
	return a
}

type opBuilder func(app *argoApp, user string) (argoOperation, string, error)

// argoPlan is what a confirmed Argo CD sync or rollback applies: the
// operation previewed and the application's spec generation it was built from.
type argoPlan struct {
	op         argoOperation
	generation int64
}

// argoChecks are the preconditions both modes share; it returns a refusal reason.
func argoChecks(app *argoApp, rollback bool, rollbackID int64) string {
	switch {
	case app.deleting:
		return "application is deleting"
	case app.operation != nil:
		return fmt.Sprintf("operation in progress: %s (started by %s)", ErrArgoOperationInProgress, app.operationBy())
	case rollback && app.automated:
		return "auto-sync is on: rollback cannot be initiated when auto-sync is enabled"
	}
	if rollback {
		h := app.historyEntry(rollbackID)
		if h == nil {
			return fmt.Sprintf("application %s does not have deployment with id %d", app.name, rollbackID)
		}
		if len(h.Source) == 0 && len(h.Sources) == 0 {
			return "cannot rollback to revision deployed with Argo CD v0.11 or lower. sync to revision instead."
		}
	}
	return ""
}

// argoSteps fills a's steps: through env.Argo's REST API (verb and body for
// POST /api/v1/applications/{name}/{verb}) when set, else through the Kubernetes API.
func argoSteps(a *Action, env *Env, rollback bool, id int64, build opBuilder, verb string, body map[string]any) {
	if env.Argo != nil {
		argoServerSteps(a, env, rollback, id, build, verb, body)
		return
	}
	a.Permission = &Permission{Verb: "update", Group: "argoproj.io", Resource: "applications"}
	apps := func(ns string) interface {
		Get(context.Context, string, metav1.GetOptions, ...string) (*unstructured.Unstructured, error)
		Update(context.Context, *unstructured.Unstructured, metav1.UpdateOptions, ...string) (*unstructured.Unstructured, error)
		UpdateStatus(context.Context, *unstructured.Unstructured, metav1.UpdateOptions) (*unstructured.Unstructured, error)
	} {
		return env.Dynamic.Resource(gvrApplication).Namespace(ns)
	}
	get := func(ctx context.Context, t spec.Object) (*argoApp, error) {
		u, err := apps(t.Namespace).Get(ctx, t.Name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		return parseArgoApp(u)
	}
	a.steps = steps{
		precheck: func(ctx context.Context, t spec.Object) (string, error) {
			if env.Dynamic == nil {
				return "", errors.New("no dynamic client for Argo CD applications")
			}
			app, err := get(ctx, t)
			if err != nil {
				return "", err
			}
			if r := argoChecks(app, rollback, id); r != "" {
				return r, nil
			}
			return argoWindowCheck(ctx, env, app)
		},
		preview: func(ctx context.Context, t spec.Object) (previewed, error) {
			app, err := get(ctx, t)
			if err != nil {
				return previewed{}, err
			}
			user, err := env.User(ctx)
			if err != nil {
				return previewed{}, err
			}
			op, summary, err := build(app, user)
			if err != nil {
				return previewed{}, err
			}
			pv := argoPreview(app, summary)
			pv.plan = argoPlan{op: op, generation: app.obj.GetGeneration()}
			if b, jerr := json.Marshal(op); jerr == nil {
				pv.Plan = []string{"operation=" + string(b), fmt.Sprintf("generation=%d", app.obj.GetGeneration())}
			}
			// Server-side dry run of the very update SetAppOperation will send.
			u, err := withOperation(app.obj, op)
			if err != nil {
				return pv, err
			}
			if _, err := apps(t.Namespace).Update(ctx, u, metav1.UpdateOptions{DryRun: dryRunAll}); err != nil {
				pv.DryRun = "server dry-run: " + err.Error()
				return pv, err
			}
			pv.DryRun = "server dry-run: ok"
			return pv, nil
		},
		execute: func(ctx context.Context, tok execToken, t spec.Object, progress func(string)) (executed, error) {
			plan, ok := tok.plan.(argoPlan)
			if !ok {
				return executed{}, fmt.Errorf("no previewed operation to execute")
			}
			var want map[string]any
			for attempt := 1; ; attempt++ { // SetAppOperation: retry on conflict
				app, err := get(ctx, t)
				if err != nil {
					return executed{}, err
				}
				if app.operation != nil {
					return executed{}, ErrArgoOperationInProgress
				}
				// The operation previewed, on the spec it was built from: a spec
				// changed since (another revision, source, sync options) is refused.
				if g := app.obj.GetGeneration(); g != plan.generation {
					return executed{}, fmt.Errorf("%w: application %s's spec changed since the preview (generation %d, previewed %d); look again",
						spec.ErrChangedSincePreview, t.Name, g, plan.generation)
				}
				op := plan.op
				_, summary, err := build(app, tok.user)
				if err != nil {
					return executed{}, err
				}
				u, err := withOperation(app.obj, op)
				if err != nil {
					return executed{}, err
				}
				want, _, _ = unstructured.NestedMap(u.Object, "operation")
				updated, err := apps(t.Namespace).Update(ctx, u, metav1.UpdateOptions{})
				if apierrors.IsConflict(err) && attempt < 10 {
					progress(fmt.Sprintf("update conflict, retrying (%d)", attempt))
					time.Sleep(50 * time.Millisecond)
					continue
				}
				if err != nil {
					return executed{}, fmt.Errorf("setting the operation on application %s: %w", t.Name, err)
				}
				// Upstream Argo CD's CRD has no status subresource, so the update above cleared
				// status.operationState. Where status is a subresource, clear it there too.
				if _, found, _ := unstructured.NestedFieldNoCopy(updated.Object, "status", "operationState"); found {
					unstructured.RemoveNestedField(updated.Object, "status", "operationState")
					if _, err := apps(t.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
						progress("could not clear status.operationState through the status subresource: " + shortErr(err))
					}
				}
				return executed{Result: spec.Result{Message: summary + " requested; Argo CD's application controller runs it"}, state: want}, nil
			}
		},
		verify: func(ctx context.Context, t spec.Object, res executed, _ func(string)) (string, error) {
			app, err := get(ctx, t)
			if err != nil {
				return "", err
			}
			if !sameJSON(app.operation, res.state) {
				// A quick controller may have run it already: its operationState says so.
				if st := app.operationState(); app.operation == nil && sameJSON(st.operation, res.state) {
					return "operation taken up by Argo CD's application controller (" + st.phase + ")", nil
				}
				got, _ := json.Marshal(app.operation)
				return "", fmt.Errorf("application %s has operation %s, not the one vigil set", t.Name, got)
			}
			return "operation recorded on the application", nil
		},
		outcome: argoOutcome(get),
	}
}

// argoPoll is how often argoOutcome reads the application.
var argoPoll = time.Second

// argoHeartbeat is how long argoOutcome stays silent while nothing changes: then it says
// again where the operation stands, with how long it has waited and how long it still will,
// so a wait on a controller that never comes does not look like a hang.
var argoHeartbeat = 30 * time.Second

// argoOpState is what an application's status.operationState says of its operation.
type argoOpState struct {
	phase, message string
	startedAt      string
	by             string
	automated      bool
	// operation is the operation it reports on, as .operation held it.
	operation map[string]any
}

func (a *argoApp) operationState() argoOpState {
	o := a.obj.Object
	str := func(f ...string) string {
		v, _, _ := unstructured.NestedString(o, append([]string{"status", "operationState"}, f...)...)
		return v
	}
	st := argoOpState{phase: str("phase"), message: str("message"), startedAt: str("startedAt"), by: str("operation", "initiatedBy", "username")}
	st.automated, _, _ = unstructured.NestedBool(o, "status", "operationState", "operation", "initiatedBy", "automated")
	st.operation, _, _ = unstructured.NestedMap(o, "status", "operationState", "operation")
	return st
}

// argoOutcome waits until Argo CD's application controller has run the operation vigil
// requested: status.operationState reaches Succeeded, Failed or Error. It reports each phase
// as it is seen (Running, with when it started and who asked). An operation that goes away
// without a result, or a result of someone else's operation, is an error: what became of
// vigil's is not known.
func argoOutcome(get func(context.Context, spec.Object) (*argoApp, error)) func(context.Context, spec.Object, executed, func(string)) (operationResult, error) {
	return func(ctx context.Context, t spec.Object, res executed, progress func(string)) (operationResult, error) {
		want, _ := res.state.(map[string]any) // the operation set (Kubernetes mode); nil through argocd-server
		seen, lastErr := "", error(nil)
		start, said := time.Now(), time.Now()
		for {
			app, err := get(ctx, t)
			if err == nil {
				st := app.operationState()
				mine := want == nil || st.phase == "" || sameJSON(st.operation, want) ||
					(!st.automated && st.by == initiator(want))
				switch {
				case !mine:
					by := st.by
					if st.automated {
						by = "automated"
					}
					return operationResult{}, fmt.Errorf("application %s reports an operation of %s (%s), not vigil's", t.Name, by, st.phase)
				case st.phase == "Succeeded", st.phase == "Failed", st.phase == "Error":
					msg := "Argo CD operation " + st.phase
					if st.message != "" {
						msg += ": " + st.message
					}
					return operationResult{Failed: st.phase != "Succeeded", Message: msg}, nil
				case app.operation == nil && st.phase == "":
					return operationResult{}, fmt.Errorf("the operation left application %s without a result (terminated, or replaced)", t.Name)
				}
				now := "requested; Argo CD's application controller has not started it yet"
				if st.phase != "" {
					now = fmt.Sprintf("Argo CD operation %s (started %s by %s)", st.phase, st.startedAt, st.by)
				}
				switch {
				case now != seen:
					progress(now)
					seen, said = now, time.Now()
				case time.Since(said) >= argoHeartbeat:
					progress(now + " · " + waited(ctx, start))
					said = time.Now()
				}
			} else {
				lastErr = err
			}
			select {
			case <-ctx.Done():
				late := fmt.Errorf("no result of the operation on application %s in time (last seen: %s): %w", t.Name, orUnknown(seen), ctx.Err())
				if lastErr != nil {
					late = errors.Join(late, fmt.Errorf("last read: %w", lastErr))
				}
				return operationResult{}, late
			case <-time.After(argoPoll):
			}
		}
	}
}

// waited says how long a wait begun at start has lasted and, when ctx has a deadline, how
// long it goes on.
func waited(ctx context.Context, start time.Time) string {
	s := "waited " + time.Since(start).Round(time.Second).String()
	if d, ok := ctx.Deadline(); ok {
		s += ", gives up in " + max(0, time.Until(d)).Round(time.Second).String()
	}
	return s
}

// sameJSON reports whether a and b are the same JSON: an operation as sent (numbers of the
// spec's retry as the converter typed them) and as the API server stores it (int64) differ in
// Go types only.
func sameJSON(a, b any) bool {
	ja, erra := json.Marshal(a)
	jb, errb := json.Marshal(b)
	return erra == nil && errb == nil && string(ja) == string(jb)
}

// initiator is the username of an operation's initiatedBy.
func initiator(op map[string]any) string {
	u, _, _ := unstructured.NestedString(op, "initiatedBy", "username")
	return u
}

// withOperation returns a copy of obj with .operation set to op and status.operationState removed.
func withOperation(obj *unstructured.Unstructured, op argoOperation) (*unstructured.Unstructured, error) {
	if op.Retry == nil {
		op.Retry = map[string]any{}
	}
	m, err := toUnstructured(op)
	if err != nil {
		return nil, err
	}
	u := obj.DeepCopy()
	u.Object["operation"] = m
	unstructured.RemoveNestedField(u.Object, "status", "operationState")
	return u, nil
}

func argoPreview(app *argoApp, summary string) previewed {
	pv := previewed{Preview: spec.Preview{Summary: summary, Namespaces: append([]string{app.destNS}, app.resourceNS...)}}
	dest := app.destServer
	if dest == "" {
		dest = app.destName
	}
	if app.remote() {
		pv.Unpinned = fmt.Sprintf("application %s deploys to another cluster (%s): whether namespace %s is production there cannot be checked from here", app.name, dest, app.destNS)
	}
	pv.Details = append(pv.Details,
		fmt.Sprintf("project %s, destination %s namespace %s", app.project, dest, app.destNS),
		fmt.Sprintf("now: %s at %s, health %s", orUnknown(app.syncStatus), short(app.syncRev), orUnknown(app.health)))
	if len(app.syncOptions) > 0 {
		pv.Details = append(pv.Details, "syncOptions: "+strings.Join(app.syncOptions, ", "))
	}
	if app.automated {
		pv.Warnings = append(pv.Warnings, "automated sync is on: Argo CD may sync again on its own")
	}
	return pv
}

// argoWindowCheck applies the AppProject's sync windows to a manual sync.
func argoWindowCheck(ctx context.Context, env *Env, app *argoApp) (string, error) {
	projNS := app.ctrlNS
	if projNS == "" {
		projNS = app.ns
	}
	proj, err := env.Dynamic.Resource(gvrAppProject).Namespace(projNS).Get(ctx, app.project, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("reading AppProject %s/%s for its sync windows: %w", projNS, app.project, err)
	}
	raw, _, _ := unstructured.NestedSlice(proj.Object, "spec", "syncWindows")
	b, _ := json.Marshal(raw)
	var windows []SyncWindow
	if err = json.Unmarshal(b, &windows); err != nil {
		return "", fmt.Errorf("AppProject %s spec.syncWindows: %w", app.project, err)
	}
	ok, reason, err := canSync(matchingWindows(windows, app.name, app.destNS, app.destServer, app.destName), true, time.Now())
	if err != nil {
		return "", fmt.Errorf("AppProject %s: %w", app.project, err)
	}
	if !ok {
		return reason, nil
	}
	return "", nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
