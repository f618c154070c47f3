package gitops

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// seedApps reads the Applications of the seeded estate (testdata/fintech/local-1), the same
// objects the local cluster serves: fintech-app is automated with prune and selfHeal and
// ignores /spec/replicas of apps Deployments; fintech-staging-app is manual.
func seedApps(t *testing.T) map[string]map[string]any {
	t.Helper()
	b, err := os.ReadFile("../testdata/fintech/local-1/20-argocd-apps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, doc := range strings.Split(string(b), "\n---\n") {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatal(err)
		}
		if m["kind"] == "Application" {
			out[m["metadata"].(map[string]any)["name"].(string)] = m
		}
	}
	return out
}

// deployment is payment-service as the seed has it, in JSON form.
func deployment() map[string]any {
	var m map[string]any
	_ = json.Unmarshal([]byte(`{
	  "apiVersion": "apps/v1", "kind": "Deployment",
	  "metadata": {"name": "payment-service", "namespace": "fintech-prod", "annotations": {"deployment.kubernetes.io/revision": "3"}},
	  "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "payment-service"}},
	    "template": {"metadata": {"labels": {"app": "payment-service"}},
	      "spec": {"containers": [
	        {"name": "payment-service", "image": "registry.fintech.internal/fintech/payment-service:v1.2.3", "env": [{"name": "DB_HOST", "value": "postgres"}]},
	        {"name": "istio-proxy", "image": "istio/proxyv2:1.20.0"}]}}},
	  "status": {"replicas": 3}}`), &m)
	return m
}

type mutate func(map[string]any)

func rollbackImage(o map[string]any) {
	c := o["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	c["image"] = "registry.fintech.internal/fintech/payment-service:v1.2.2"
}

func rollbackImageAndEnv(o map[string]any) {
	rollbackImage(o)
	c := o["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	c["env"] = []any{map[string]any{"name": "DB_HOST", "value": "postgres-old"}}
}

func scaleTo5(o map[string]any) { o["spec"].(map[string]any)["replicas"] = 5.0 }

func restart(o map[string]any) {
	md := o["spec"].(map[string]any)["template"].(map[string]any)["metadata"].(map[string]any)
	md["annotations"] = map[string]any{"kubectl.kubernetes.io/restartedAt": "2026-12-01T03:00:00Z"}
}

// withSpec returns fintech-app with its syncPolicy.automated and ignoreDifferences replaced.
func withSpec(app map[string]any, automated any, ignore []any, syncOptions ...any) map[string]any {
	a := deepCopy(app)
	spec := a["spec"].(map[string]any)
	sp := spec["syncPolicy"].(map[string]any)
	if automated == nil {
		delete(sp, "automated")
	} else {
		sp["automated"] = automated
	}
	if syncOptions != nil {
		sp["syncOptions"] = syncOptions
	}
	if ignore == nil {
		delete(spec, "ignoreDifferences")
	} else {
		spec["ignoreDifferences"] = ignore
	}
	return a
}

func rule(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func TestPredictFollowsArgoCDSemantics(t *testing.T) {
	apps := seedApps(t)
	fintech, staging := apps["fintech-app"], apps["fintech-staging-app"]
	selfHeal := map[string]any{"prune": true, "selfHeal": true}
	depRule := func(kv ...any) []any {
		return []any{rule(append([]any{"group", "apps", "kind", "Deployment"}, kv...)...)}
	}
	lastApplied := func(spec string) mutate {
		return func(o map[string]any) {
			o["metadata"].(map[string]any)["annotations"].(map[string]any)["kubectl.kubernetes.io/last-applied-configuration"] = spec
		}
	}
	now := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	suspended := deepCopy(withSpec(fintech, nil, nil))
	suspended["metadata"].(map[string]any)["annotations"] = map[string]any{
		AnnotationSavedAutomated: `{"prune":true,"selfHeal":true}`, AnnotationSuspendedBy: "alice",
		AnnotationSuspendedUntil: now.Add(47 * time.Minute).Format(time.RFC3339)}

	cases := []struct {
		name     string
		app      map[string]any
		before   mutate // applied to the live object first (last-applied …)
		action   string
		change   mutate
		manager  string
		blocked  string // a sync window blocking automated sync
		want     Outcome
		blocks   bool
		says     []string // substrings of Says
		notes    []string // substrings of some note
		noNoteOf string   // no note contains this
	}{
		// The seeded app as it is: a rollback changes the pod template, which Git sets:
		// self-heal puts revision 3 back; scale is ignored by /spec/replicas.
		{name: "seed rollback: self-heal restores", app: fintech, action: "rollback", change: rollbackImage,
			want: Reverts, blocks: true, says: []string{"fintech-app", "automated (prune, selfHeal)", "self-heal will restore revision 3 within ~3 min"}},
		{name: "seed scale: ignored by /spec/replicas", app: fintech, action: "scale", change: scaleTo5,
			want: Stays, says: []string{"ignored by ignoreDifferences (/spec/replicas): stays"}, notes: []string{"RespectIgnoreDifferences=true"}},
		{name: "seed scale with RespectIgnoreDifferences: no caveat", app: withSpec(fintech, selfHeal, depRule("jsonPointers", []any{"/spec/replicas"}), "RespectIgnoreDifferences=true"),
			action: "scale", change: scaleTo5, want: Stays, noNoteOf: "RespectIgnoreDifferences"},
		{name: "seed restart: annotation unknown to Git, not blocked", app: fintech, action: "restart", change: restart,
			want: Reverts, says: []string{"if Git sets /spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt"}, notes: []string{"cannot be told"}},
		{name: "secret refresh: unaffected", app: fintech, action: "secret-refresh", want: Unaffected, says: []string{"unaffected"}},

		// Sync policies.
		{name: "manual app: OutOfSync, stays until a sync", app: staging, action: "rollback", change: rollbackImage,
			want: OutOfSync, says: []string{"fintech-staging-app (manual sync): the app will show OutOfSync", "until someone syncs"}},
		{name: "automated without selfHeal: OutOfSync", app: withSpec(fintech, map[string]any{"prune": true}, nil), action: "scale", change: scaleTo5,
			want: OutOfSync, says: []string{"automated (prune)", "without selfHeal"}},
		{name: "automated enabled=false (v3) is manual", app: withSpec(fintech, map[string]any{"enabled": false, "selfHeal": true}, nil), action: "rollback", change: rollbackImage,
			want: OutOfSync, says: []string{"manual sync"}},
		{name: "automated {} (argocd app set --sync-policy automated): no selfHeal", app: withSpec(fintech, map[string]any{}, nil), action: "rollback", change: rollbackImage,
			want: OutOfSync, says: []string{"(automated)"}},
		{name: "selfHeal, scale not ignored: blocks", app: withSpec(fintech, selfHeal, nil), action: "scale", change: scaleTo5,
			want: Reverts, blocks: true, says: []string{"if Git sets /spec/replicas"}},
		{name: "selfHeal but a deny window is open: OutOfSync until it closes", app: fintech, action: "rollback", change: rollbackImage, blocked: "deny 0 0 24 12 * for 72h",
			want: OutOfSync, says: []string{"a sync window blocks automated sync now (deny", "when it opens"}},
		{name: "suspended by vigil: OutOfSync, reminder, re-enabling heals", app: suspended, action: "rollback", change: rollbackImage,
			want: OutOfSync, says: []string{"suspended by alice for 47 more minutes", "on re-enabling self-heal restores revision 3"}},

		// jsonPointers: what they cover, and what they do not.
		{name: "pointer /spec/template covers a rollback", app: withSpec(fintech, selfHeal, depRule("jsonPointers", []any{"/spec/template"})), action: "rollback", change: rollbackImageAndEnv,
			want: Stays},
		{name: "pointer /spec/template does not cover scale", app: withSpec(fintech, selfHeal, depRule("jsonPointers", []any{"/spec/template"})), action: "scale", change: scaleTo5,
			want: Reverts, blocks: true},
		{name: "pointer to the image only covers an image-only rollback", app: withSpec(fintech, selfHeal, depRule("jsonPointers", []any{"/spec/template/spec/containers/0/image"})), action: "rollback", change: rollbackImage,
			want: Stays, says: []string{"/spec/template/spec/containers/0/image"}},
		{name: "pointer to the image does not cover an env change", app: withSpec(fintech, selfHeal, depRule("jsonPointers", []any{"/spec/template/spec/containers/0/image"})), action: "rollback", change: rollbackImageAndEnv,
			want: Reverts, blocks: true},
		{name: "pointer to the other container's image does not cover it", app: withSpec(fintech, selfHeal, depRule("jsonPointers", []any{"/spec/template/spec/containers/1/image"})), action: "rollback", change: rollbackImage,
			want: Reverts, blocks: true},
		{name: "escaped pointer (~1) covers restartedAt", app: withSpec(fintech, selfHeal, depRule("jsonPointers", []any{"/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt"})), action: "restart", change: restart,
			want: Stays},
		{name: "unescaped pointer does not (it means a nested key)", app: withSpec(fintech, selfHeal, depRule("jsonPointers", []any{"/spec/template/metadata/annotations/kubectl.kubernetes.io/restartedAt"})), action: "restart", change: restart,
			want: Reverts},
		{name: "pointer /spec/replica (typo) covers nothing", app: withSpec(fintech, selfHeal, depRule("jsonPointers", []any{"/spec/replica"})), action: "scale", change: scaleTo5,
			want: Reverts, blocks: true},
		{name: "pointer /spec covers everything in spec", app: withSpec(fintech, selfHeal, depRule("jsonPointers", []any{"/spec"})), action: "rollback", change: rollbackImageAndEnv,
			want: Stays},

		// Which resources a rule matches.
		{name: "rule for StatefulSets does not match", app: withSpec(fintech, selfHeal, []any{rule("group", "apps", "kind", "StatefulSet", "jsonPointers", []any{"/spec/replicas"})}), action: "scale", change: scaleTo5,
			want: Reverts, blocks: true},
		{name: "rule for another group does not match", app: withSpec(fintech, selfHeal, []any{rule("group", "extensions", "kind", "Deployment", "jsonPointers", []any{"/spec/replicas"})}), action: "scale", change: scaleTo5,
			want: Reverts, blocks: true},
		{name: "rule naming another Deployment does not match", app: withSpec(fintech, selfHeal, depRule("name", "user-service", "jsonPointers", []any{"/spec/replicas"})), action: "scale", change: scaleTo5,
			want: Reverts, blocks: true},
		{name: "rule naming this Deployment matches", app: withSpec(fintech, selfHeal, depRule("name", "payment-service", "namespace", "fintech-prod", "jsonPointers", []any{"/spec/replicas"})), action: "scale", change: scaleTo5,
			want: Stays},
		{name: "rule in another namespace does not match", app: withSpec(fintech, selfHeal, depRule("namespace", "fintech-staging", "jsonPointers", []any{"/spec/replicas"})), action: "scale", change: scaleTo5,
			want: Reverts, blocks: true},
		{name: "wildcard group and kind match", app: withSpec(fintech, selfHeal, []any{rule("group", "*", "kind", "*", "jsonPointers", []any{"/spec/replicas"})}), action: "scale", change: scaleTo5,
			want: Stays},

		// jqPathExpressions, evaluated with gojq as Argo CD does (del(EXPR)).
		{name: "jq selecting the container's image covers the rollback", app: withSpec(fintech, selfHeal, depRule("jqPathExpressions", []any{`.spec.template.spec.containers[] | select(.name == "payment-service") | .image`})),
			action: "rollback", change: rollbackImage, want: Stays},
		{name: "jq selecting another container does not", app: withSpec(fintech, selfHeal, depRule("jqPathExpressions", []any{`.spec.template.spec.containers[] | select(.name == "istio-proxy") | .image`})),
			action: "rollback", change: rollbackImage, want: Reverts, blocks: true},
		{name: "jq over every container's env and image covers both", app: withSpec(fintech, selfHeal, depRule("jqPathExpressions", []any{`.spec.template.spec.containers[].image`, `.spec.template.spec.containers[].env`})),
			action: "rollback", change: rollbackImageAndEnv, want: Stays},
		{name: "a broken jq expression ignores nothing and says so", app: withSpec(fintech, selfHeal, depRule("jqPathExpressions", []any{`.spec.template.spec.containers[`})),
			action: "rollback", change: rollbackImage, want: Reverts, blocks: true, notes: []string{"jqPathExpression"}},

		// managedFieldsManagers: only vigil's own manager makes its change ignored.
		{name: "managedFieldsManagers listing vigil: stays", app: withSpec(fintech, selfHeal, depRule("managedFieldsManagers", []any{"vigil"})), manager: "vigil",
			action: "scale", change: scaleTo5, want: Stays},
		{name: "managedFieldsManagers listing the HPA's manager: vigil's change still counts", app: withSpec(fintech, selfHeal, depRule("managedFieldsManagers", []any{"kube-controller-manager"})), manager: "vigil",
			action: "scale", change: scaleTo5, want: Reverts, blocks: true, notes: []string{`vigil's change is owned by "vigil", not listed`}},
		{name: "managedFieldsManagers with an unknown manager: says it cannot tell", app: withSpec(fintech, selfHeal, depRule("managedFieldsManagers", []any{"vigil"})),
			action: "scale", change: scaleTo5, want: Reverts, blocks: true, notes: []string{"cannot tell"}},

		// last-applied-configuration tells what Git set.
		{name: "Git does not set replicas (last-applied): stays", app: withSpec(fintech, selfHeal, nil), before: lastApplied(`{"spec":{"template":{}}}`),
			action: "scale", change: scaleTo5, want: Stays, says: []string{"not set in Git"}},
		{name: "Git sets replicas (last-applied): reverts, no 'if'", app: withSpec(fintech, selfHeal, nil), before: lastApplied(`{"spec":{"replicas":3}}`),
			action: "scale", change: scaleTo5, want: Reverts, blocks: true, noNoteOf: "cannot be told"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := PolicyOf(tc.app, 0)
			p.SyncBlocked, p.BlockedBy = tc.blocked != "", tc.blocked
			before := deployment()
			if tc.before != nil {
				tc.before(before)
			}
			after := deepCopy(before)
			if tc.change != nil {
				tc.change(after)
			}
			v := Predict(p, Change{Action: tc.action, Group: "apps", Kind: "Deployment", Namespace: "fintech-prod", Name: "payment-service",
				Before: before, After: after, Manager: tc.manager, Restores: "revision 3", Now: now})
			if v.Outcome != tc.want || v.Blocks != tc.blocks {
				t.Fatalf("outcome %s blocks %v, want %s blocks %v\nsays: %s\nnotes: %q\nchanged %v ignored %v", v.Outcome, v.Blocks, tc.want, tc.blocks, v.Says, v.Notes, v.Changed, v.Ignored)
			}
			for _, s := range tc.says {
				if !strings.Contains(v.Says, s) {
					t.Errorf("says %q, want it to contain %q", v.Says, s)
				}
			}
			notes := strings.Join(v.Notes, "\n")
			for _, s := range tc.notes {
				if !strings.Contains(notes, s) {
					t.Errorf("notes %q, want one containing %q", v.Notes, s)
				}
			}
			if tc.noNoteOf != "" && strings.Contains(notes, tc.noNoteOf) {
				t.Errorf("notes %q, want none containing %q", v.Notes, tc.noNoteOf)
			}
		})
	}
}
