package checks

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
)

const (
	itemGitOps   = "GitOps workflow implemented"
	itemRolling  = "Rolling update strategy configured"
	itemRollback = "Rollback procedures tested"
	itemDR       = "Disaster recovery plan validated"
)

func deliveryChecks() []Check {
	return []Check{
		{
			ID: "ops-gitops-argocd", Title: "Workloads are managed by a Synced, Healthy, self-healing Argo CD app",
			Group: Operations, Item: itemGitOps, PCI: []string{"6.5.1"}, Severity: High,
			Rationale:   "Change control (PCI 6.5) needs every change to go through review in Git; a workload applied by hand, or an app that is OutOfSync or lets drift stand (no selfHeal), escapes it.",
			Remediation: "Add the workload's manifests to the Argo CD Application's source, enable syncPolicy.automated with selfHeal: true, and bring the app back to Synced/Healthy.",
			Needs:       []string{ResApplications, ResAppProjects, ResDeployments, ResStatefulSets, ResDaemonSets},
			Eval:        evalGitOps,
		},
		{
			ID: "ops-rolling-update", Title: "Rolling updates keep critical services at full capacity",
			Group: Operations, Item: itemRolling, PCI: []string{"6.5.1"}, Severity: Medium,
			Rationale:   "Recreate takes every pod down at once; for a PCI or production service the seed uses RollingUpdate with maxUnavailable: 0 so capacity never drops during a release.",
			Remediation: "Set spec.strategy.type: RollingUpdate with rollingUpdate.maxUnavailable: 0 and maxSurge: 1 (StatefulSets: updateStrategy RollingUpdate).",
			Needs:       []string{ResDeployments, ResStatefulSets, ResNamespaces},
			Eval:        evalRollingUpdate,
		},
		{
			ID: "ops-probes", Title: "Containers have liveness and readiness probes",
			Group: Operations, Item: itemRolling, Severity: Medium,
			Rationale:   "A rolling update only waits for pods that can say they are ready; without a readiness probe traffic hits pods still starting, and without a liveness probe a hung process is never restarted.",
			Remediation: "Add readinessProbe and livenessProbe (the seed's /ready and /health endpoints) to every serving container.",
			Needs:       []string{ResDeployments, ResStatefulSets, ResDaemonSets, ResPods},
			Eval:        evalProbes,
		},
		{
			ID: "ops-revision-history", Title: "Deployments keep revisions to roll back to",
			Group: Operations, Item: itemRollback, PCI: []string{"6.5.1"}, Severity: Low,
			Rationale:   "kubectl rollout undo needs the old ReplicaSets: revisionHistoryLimit 0 or 1 throws them away.",
			Remediation: "Leave spec.revisionHistoryLimit unset (10) or set it to at least 2.",
			Needs:       []string{ResDeployments},
			Eval:        evalRevisionHistory,
		},
		{
			ID: "ops-rollback-tested", Title: "Rollback procedures have been rehearsed",
			Group: Operations, Item: itemRollback, PCI: []string{"6.5.1"}, Severity: Medium,
			Rationale:   "A rollback path that was never exercised fails when needed (schema migrations, missing images, pruned revisions).",
			Remediation: "Rehearse `argocd app rollback` / `kubectl rollout undo` on staging each release and record it in the change ticket.",
			Eval: func(*Inventory) []Finding {
				return []Finding{finding(Unknown, clusterResource, "whether a rollback was rehearsed is not recorded in the Kubernetes API (revision history only shows it is possible: see ops-revision-history); evidence would be a dated rollback drill in the change record")}
			},
		},
		{
			ID: "ops-replicas", Title: "Production services run at least two replicas",
			Group: Operations, Item: itemDR, Severity: High,
			Rationale:   "One replica is one node failure, eviction or bad rollout away from an outage.",
			Remediation: "Run at least 2 replicas (or an HPA with minReplicas ≥ 2); for databases, a replicated setup (operator with a standby).",
			Needs:       []string{ResDeployments, ResStatefulSets, ResHPAs, ResNamespaces},
			Eval:        evalReplicas,
		},
		{
			ID: "ops-spread", Title: "Replicas are spread across nodes",
			Group: Operations, Item: itemDR, Severity: Medium,
			Rationale:   "Replicas packed on one node fail together: the seed's api-gateway uses pod anti-affinity on kubernetes.io/hostname.",
			Remediation: "Add podAntiAffinity on kubernetes.io/hostname or topologySpreadConstraints (zone and hostname) to the pod template.",
			Needs:       []string{ResDeployments, ResStatefulSets, ResHPAs},
			Eval:        evalSpread,
		},
		{
			ID: "ops-dr-plan", Title: "The disaster-recovery plan has been validated",
			Group: Operations, Item: itemDR, PCI: []string{"12.10.1", "12.10.2"}, Severity: Medium,
			Rationale:   "Only a restore rehearsal proves the RPO/RTO the business was promised.",
			Remediation: "Run and record a DR exercise (restore into a fresh cluster from Git and backups) at least yearly.",
			Eval: func(*Inventory) []Finding {
				return []Finding{finding(Unknown, clusterResource, "a DR plan and its validation are documents and exercise records outside the cluster; evidence would be the last DR test report with the achieved RPO/RTO. Replicas and spread are checked by ops-replicas and ops-spread")}
			},
		},
	}
}

// argoManaging returns the Argo CD Application whose status lists w.
func (inv *Inventory) argoManaging(w Workload, group string) (*unstructured.Unstructured, bool) {
	for _, app := range inv.Applications {
		res, _, _ := unstructured.NestedSlice(app.Object, "status", "resources")
		for _, r := range res {
			m, _ := r.(map[string]any)
			if m["kind"] == w.Kind && m["name"] == w.Name && m["namespace"] == w.Namespace && fmt.Sprint(m["group"]) == group {
				return app, true
			}
		}
	}
	return nil, false
}

func evalGitOps(inv *Inventory) []Finding {
	var out []Finding
	for _, w := range inv.workloads() {
		if w.Kind != "Deployment" && w.Kind != "StatefulSet" && w.Kind != "DaemonSet" {
			continue
		}
		if !inv.installed(GroupArgoCD) {
			out = append(out, finding(Warn, w.Ref(), "Argo CD absent (no %s CRDs): no GitOps controller vigil can verify (Flux and others are not evaluated)", GroupArgoCD))
			continue
		}
		app, ok := inv.argoManaging(w, "apps")
		if !ok {
			out = append(out, finding(Fail, w.Ref(), "no Argo CD Application lists %s in status.resources: not under GitOps (%d Applications)", w.Ref(), len(inv.Applications)))
			continue
		}
		sync, health := str(app, "status", "sync", "status"), str(app, "status", "health", "status")
		selfHeal, _, _ := unstructured.NestedBool(app.Object, "spec", "syncPolicy", "automated", "selfHeal")
		_, automated, _ := unstructured.NestedMap(app.Object, "spec", "syncPolicy", "automated")
		ev := fmt.Sprintf("Application %s/%s status.sync.status=%s status.health.status=%s spec.syncPolicy.automated.selfHeal=%t", app.GetNamespace(), app.GetName(), orUnset(sync), orUnset(health), selfHeal)
		if !automated {
			ev += " (no automated sync)"
		}
		if sync == "Synced" && health == "Healthy" && selfHeal {
			out = append(out, finding(Pass, w.Ref(), "%s", ev))
		} else {
			out = append(out, finding(Fail, w.Ref(), "%s", ev))
		}
	}
	if inv.installed(GroupArgoCD) {
		out = append(out, evalAppProjects(inv)...)
	}
	return out
}

// kindsIn lists, for an Application destination namespace, the kinds
// of objects the inventory holds there, as "group/Kind".
func (inv *Inventory) kindsIn(ns string) []string {
	seen := map[string]bool{}
	add := func(group, kind string, n int) {
		if n > 0 {
			seen[group+"/"+kind] = true
		}
	}
	count := func(nsOf func(i int) string, n int) int {
		c := 0
		for i := 0; i < n; i++ {
			if nsOf(i) == ns {
				c++
			}
		}
		return c
	}
	add("", "Service", count(func(i int) string { return inv.Services[i].Namespace }, len(inv.Services)))
	add("", "ServiceAccount", count(func(i int) string { return inv.ServiceAccounts[i].Namespace }, len(inv.ServiceAccounts)))
	add("", "ConfigMap", count(func(i int) string { return inv.ConfigMaps[i].Namespace }, len(inv.ConfigMaps)))
	add("apps", "Deployment", count(func(i int) string { return inv.Deployments[i].Namespace }, len(inv.Deployments)))
	add("apps", "StatefulSet", count(func(i int) string { return inv.StatefulSets[i].Namespace }, len(inv.StatefulSets)))
	add("apps", "DaemonSet", count(func(i int) string { return inv.DaemonSets[i].Namespace }, len(inv.DaemonSets)))
	add("autoscaling", "HorizontalPodAutoscaler", count(func(i int) string { return inv.HPAs[i].Namespace }, len(inv.HPAs)))
	add("policy", "PodDisruptionBudget", count(func(i int) string { return inv.PDBs[i].Namespace }, len(inv.PDBs)))
	add("networking.k8s.io", "NetworkPolicy", count(func(i int) string { return inv.NetworkPolicies[i].Namespace }, len(inv.NetworkPolicies)))
	add("networking.k8s.io", "Ingress", count(func(i int) string { return inv.Ingresses[i].Namespace }, len(inv.Ingresses)))
	add("rbac.authorization.k8s.io", "Role", count(func(i int) string { return inv.Roles[i].Namespace }, len(inv.Roles)))
	add("rbac.authorization.k8s.io", "RoleBinding", count(func(i int) string { return inv.RoleBindings[i].Namespace }, len(inv.RoleBindings)))
	add(GroupVPA, "VerticalPodAutoscaler", count(func(i int) string { return inv.VPAs[i].Namespace }, len(inv.VPAs)))
	add(GroupIstioSecurity, "PeerAuthentication", count(func(i int) string { return inv.PeerAuthentications[i].GetNamespace() }, len(inv.PeerAuthentications)))
	add(GroupIstioNetworking, "DestinationRule", count(func(i int) string { return inv.DestinationRules[i].GetNamespace() }, len(inv.DestinationRules)))
	add(GroupExternalSecrets, "ExternalSecret", count(func(i int) string { return inv.ExternalSecrets[i].GetNamespace() }, len(inv.ExternalSecrets)))
	return slices.Sorted(maps.Keys(seen))
}

// projectPermits is Argo CD's AppProject.IsGroupKindPermitted for a
// namespaced kind: with no namespaceResourceWhitelist every kind is
// allowed, with an empty one none; a blacklist entry forbids. Entries match
// group and kind as globs.
func projectPermits(proj *unstructured.Unstructured, group, kind string) bool {
	in := func(field string) (list []any, found bool) {
		list, found, _ = unstructured.NestedSlice(proj.Object, "spec", field)
		return list, found
	}
	matches := func(list []any) bool {
		for _, e := range list {
			m, _ := e.(map[string]any)
			g, _ := m["group"].(string)
			k, _ := m["kind"].(string)
			if okG, _ := path.Match(g, group); okG {
				if okK, _ := path.Match(k, kind); okK {
					return true
				}
			}
		}
		return false
	}
	white, found := in("namespaceResourceWhitelist")
	black, _ := in("namespaceResourceBlacklist")
	whitelisted := !found || len(white) != 0 && matches(white)
	return whitelisted && !(len(black) != 0 && matches(black))
}

// evalAppProjects judges each AppProject against what its Applications
// deploy into: kinds present in a destination namespace that the project
// does not permit cannot come from Git through it (estate flaw F23).
func evalAppProjects(inv *Inventory) []Finding {
	var out []Finding
	for _, proj := range inv.AppProjects {
		namespaces := map[string]bool{}
		for _, app := range inv.Applications {
			project := str(app, "spec", "project")
			if project == "" {
				project = "default"
			}
			if ns := str(app, "spec", "destination", "namespace"); project == proj.GetName() && ns != "" {
				namespaces[ns] = true
			}
		}
		if len(namespaces) == 0 {
			continue
		}
		var denied []string
		for _, ns := range slices.Sorted(maps.Keys(namespaces)) {
			for _, gk := range inv.kindsIn(ns) {
				group, kind, _ := strings.Cut(gk, "/")
				if !projectPermits(proj, group, kind) {
					denied = append(denied, fmt.Sprintf("%s (%s)", kind, ns))
				}
			}
		}
		r := ref(proj)
		if len(denied) > 0 {
			out = append(out, finding(Fail, r, "spec.namespaceResourceWhitelist/Blacklist does not permit %s, which its Applications' destination namespaces hold: those objects cannot come from Git through this project", strings.Join(denied, ", ")))
		} else {
			out = append(out, finding(Pass, r, "permits every kind its Applications' destination namespaces (%s) hold", strings.Join(slices.Sorted(maps.Keys(namespaces)), ", ")))
		}
	}
	return out
}

func orUnset(s string) string {
	if s == "" {
		return "unset"
	}
	return s
}

// rolloutFenceposts is how many pods a RollingUpdate may take down and add
// at once at n desired replicas, as the Deployment controller resolves them
// (k8s.io/kubernetes pkg/controller/deployment/util ResolveFenceposts):
// maxSurge scales rounding up, maxUnavailable rounding down, and when both
// come to 0, maxUnavailable is 1. Unset values are the API's defaults (25%).
func rolloutFenceposts(ru *appsv1.RollingUpdateDeployment, n int) (surge, unavailable int) {
	def := intstr.FromString("25%")
	ms, mu := &def, &def
	if ru != nil && ru.MaxSurge != nil {
		ms = ru.MaxSurge
	}
	if ru != nil && ru.MaxUnavailable != nil {
		mu = ru.MaxUnavailable
	}
	surge, _ = intstr.GetScaledValueFromIntOrPercent(ms, n, true)
	unavailable, _ = intstr.GetScaledValueFromIntOrPercent(mu, n, false)
	if surge == 0 && unavailable == 0 {
		unavailable = 1
	}
	return surge, unavailable
}

// replicaRange is the lowest and highest replica count a workload runs at:
// its HPA's bounds when one scales it, else spec.replicas (default 1).
func (inv *Inventory) replicaRange(w Workload) (lo, hi int32, why string) {
	if h, ok := inv.hpaFor(w); ok {
		lo = 1
		if h.Spec.MinReplicas != nil {
			lo = *h.Spec.MinReplicas
		}
		return lo, max(h.Spec.MaxReplicas, lo), fmt.Sprintf("%d–%d replicas (HorizontalPodAutoscaler %s)", lo, max(h.Spec.MaxReplicas, lo), h.Name)
	}
	n := w.DesiredReplicas()
	return n, n, fmt.Sprintf("%d replicas", n)
}

func evalRollingUpdate(inv *Inventory) []Finding {
	var out []Finding
	for _, d := range inv.Deployments {
		w := Workload{Resource: Resource{"Deployment", d.Namespace, d.Name}, Labels: d.Labels, Replicas: d.Spec.Replicas, Template: d.Spec.Template}
		critical := inv.isCritical(w)
		s := d.Spec.Strategy
		if s.Type == appsv1.RecreateDeploymentStrategyType {
			out = append(out, finding(Fail, w.Ref(), "spec.strategy.type=Recreate: every pod stops before the new ones start"))
			continue
		}
		if !critical {
			out = append(out, finding(Pass, w.Ref(), "spec.strategy.type=RollingUpdate (not a critical service: maxUnavailable not checked)"))
			continue
		}
		mu, ms := "25% (unset: the API's default)", "25% (unset: the API's default)"
		if s.RollingUpdate != nil && s.RollingUpdate.MaxUnavailable != nil {
			mu = s.RollingUpdate.MaxUnavailable.String()
		}
		if s.RollingUpdate != nil && s.RollingUpdate.MaxSurge != nil {
			ms = s.RollingUpdate.MaxSurge.String()
		}
		lo, hi, why := inv.replicaRange(w)
		// The capacity a rollout may take away, at the replica count where
		// it is largest (percentages of more pods round to more).
		worstN, worst := int(lo), 0
		for n := int(lo); n <= int(min(hi, 10000)); n++ {
			if _, u := rolloutFenceposts(s.RollingUpdate, n); u > worst {
				worstN, worst = n, u
			}
		}
		ev := fmt.Sprintf("spec.strategy.rollingUpdate.maxUnavailable=%s, maxSurge=%s", mu, ms)
		if worst > 0 {
			out = append(out, finding(Fail, w.Ref(), "%s: at %d replicas a rollout may take %d pod(s) down (maxUnavailable rounds down, and is 1 when maxSurge also comes to 0) on a critical service (PCI label or environment=production) running %s", ev, worstN, worst, why))
			continue
		}
		out = append(out, finding(Pass, w.Ref(), "%s: at %s a rollout takes no pod down before its replacement is ready (maxUnavailable rounds down to 0)", ev, why))
	}
	for _, s := range inv.StatefulSets {
		r := Resource{"StatefulSet", s.Namespace, s.Name}
		if s.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType {
			out = append(out, finding(Warn, r, "spec.updateStrategy.type=OnDelete: updates wait for manual pod deletion"))
		} else {
			out = append(out, finding(Pass, r, "spec.updateStrategy.type=RollingUpdate"))
		}
	}
	return out
}

func evalProbes(inv *Inventory) []Finding {
	var out []Finding
	for _, w := range inv.workloads() {
		// Long-running pods only: a bare Pod counts unless it runs to
		// completion (restartPolicy Never or OnFailure, like a Job's).
		bare := w.Kind == "Pod" && (w.Spec().RestartPolicy == "" || w.Spec().RestartPolicy == corev1.RestartPolicyAlways)
		if w.Kind != "Deployment" && w.Kind != "StatefulSet" && w.Kind != "DaemonSet" && !bare {
			continue
		}
		var bad []string
		for _, c := range allContainers(w.Spec(), w.Field) {
			if c.Init {
				continue
			}
			var missing []string
			if c.ReadinessProbe == nil {
				missing = append(missing, "readinessProbe")
			}
			if c.LivenessProbe == nil {
				missing = append(missing, "livenessProbe")
			}
			if len(missing) > 0 {
				bad = append(bad, fmt.Sprintf("%s: %s unset", c.Field, strings.Join(missing, ", ")))
			}
		}
		out = append(out, failOrPass(w.Ref(), bad, "every container has readinessProbe and livenessProbe"))
	}
	return out
}

func evalRevisionHistory(inv *Inventory) []Finding {
	var out []Finding
	for _, d := range inv.Deployments {
		r := Resource{"Deployment", d.Namespace, d.Name}
		switch l := d.Spec.RevisionHistoryLimit; {
		case l == nil:
			out = append(out, finding(Pass, r, "spec.revisionHistoryLimit unset (10)"))
		case *l < 2:
			out = append(out, finding(Fail, r, "spec.revisionHistoryLimit=%d: no revision left to roll back to", *l))
		default:
			out = append(out, finding(Pass, r, "spec.revisionHistoryLimit=%d", *l))
		}
	}
	return out
}

func evalReplicas(inv *Inventory) []Finding {
	var out []Finding
	for _, w := range inv.servingWorkloads() {
		if !inv.isCritical(w) {
			continue
		}
		min, why := inv.minReplicas(w)
		if min >= 2 {
			out = append(out, finding(Pass, w.Ref(), "%s", why))
		} else {
			out = append(out, finding(Fail, w.Ref(), "%s: a single replica on a critical service (PCI label or environment=production)", why))
		}
	}
	return out
}

func evalSpread(inv *Inventory) []Finding {
	var out []Finding
	for _, w := range inv.servingWorkloads() {
		min, why := inv.minReplicas(w)
		if min < 2 {
			continue
		}
		spec := w.Spec()
		own := w.Template.Labels
		// A constraint or anti-affinity term spreads the workload only if
		// its labelSelector matches the workload's own pods: the scheduler
		// counts (or avoids) the pods the selector matches, and a nil
		// selector matches none (kube-score's pod-topology-spread-constraints
		// and deployment-pod-anti-affinity checks judge the same).
		var good, ignored []string
		for i, c := range spec.TopologySpreadConstraints {
			f := fmt.Sprintf("%s.topologySpreadConstraints[%d](%s)", w.Field, i, c.TopologyKey)
			if selects(c.LabelSelector, own) {
				good = append(good, f)
			} else {
				ignored = append(ignored, f+" labelSelector "+spreadSelector(c.LabelSelector)+" does not match its pods "+fmtLabels(own))
			}
		}
		if pa := spec.Affinity; pa != nil && pa.PodAntiAffinity != nil {
			terms := pa.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution
			for _, wt := range pa.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
				terms = append(terms, wt.PodAffinityTerm)
			}
			for i, term := range terms {
				f := fmt.Sprintf("%s.affinity.podAntiAffinity term %d (%s)", w.Field, i, term.TopologyKey)
				ownNS := len(term.Namespaces) == 0 && term.NamespaceSelector == nil || slices.Contains(term.Namespaces, w.Namespace) ||
					term.NamespaceSelector != nil && len(term.NamespaceSelector.MatchLabels) == 0 && len(term.NamespaceSelector.MatchExpressions) == 0
				if selects(term.LabelSelector, own) && ownNS {
					good = append(good, f)
				} else {
					ignored = append(ignored, f+" labelSelector "+spreadSelector(term.LabelSelector)+" does not match its own pods "+fmtLabels(own))
				}
			}
		}
		switch {
		case len(good) > 0:
			out = append(out, finding(Pass, w.Ref(), "%s spread its own pods", strings.Join(good, ", ")))
		case len(ignored) > 0:
			out = append(out, finding(Fail, w.Ref(), "%s, but %s: nothing spreads its replicas", why, strings.Join(ignored, "; ")))
		default:
			out = append(out, finding(Fail, w.Ref(), "%s, but %s has neither affinity.podAntiAffinity nor topologySpreadConstraints", why, w.Field))
		}
	}
	return out
}

// spreadSelector renders a spread or anti-affinity selector for evidence.
func spreadSelector(sel *metav1.LabelSelector) string {
	if sel == nil {
		return "unset (matches no pod)"
	}
	return metav1.FormatLabelSelector(sel)
}
