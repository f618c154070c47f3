package checks

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

const (
	itemPrometheus = "Prometheus metrics collection"
	itemGrafana    = "Grafana dashboards configured"
	itemAlertRules = "Alert manager rules defined"
	itemOnCall     = "On-call procedures documented"

	annotationScrape = "prometheus.io/scrape"
	annotationPort   = "prometheus.io/port"
)

func monitoringChecks() []Check {
	return []Check{
		{
			ID: "monitoring-scrape-annotations", Title: "Workloads are scraped by Prometheus",
			Group: Operations, Item: itemPrometheus, Severity: Medium,
			Rationale:   "The seed's prometheus-config keeps only pods annotated prometheus.io/scrape: \"true\"; an unannotated workload has no metrics, so none of the alerts can fire for it.",
			Remediation: "Annotate the pod template with prometheus.io/scrape: \"true\", prometheus.io/port and prometheus.io/path (or add a ServiceMonitor/PodMonitor if the Prometheus Operator is used).",
			Needs:       []string{ResDeployments, ResStatefulSets, ResDaemonSets},
			Eval:        evalScrape,
		},
		{
			ID: "monitoring-grafana-dashboards", Title: "Grafana dashboards are provisioned",
			Group: Operations, Item: itemGrafana, Severity: Low,
			Rationale:   "Dashboards kept as code (provisioning ConfigMaps) survive a Grafana reinstall and are reviewed like any change.",
			Remediation: "Provision the dashboards from ConfigMaps labelled grafana_dashboard: \"1\" (Grafana's sidecar) or from files in the Grafana image.",
			Needs:       []string{ResConfigMaps, ResDeployments, ResStatefulSets},
			Eval:        evalDashboards,
		},
		{
			ID: "monitoring-alert-rules-defined", Title: "Alert rules are defined",
			Group: Operations, Item: itemAlertRules, Severity: High,
			Rationale:   "Without rules, metrics are collected but nobody is told when payments fail: the seed defines HighErrorRate, PaymentServiceDown and DatabaseConnectionHigh.",
			Remediation: "Keep the rules in a ConfigMap mounted into Prometheus (the seed's fintech-rules) or in PrometheusRule objects.",
			Needs:       []string{ResConfigMaps, ResPrometheusRules},
			Eval:        evalAlertRulesDefined,
		},
		{
			ID: "monitoring-alert-rules-loaded", Title: "Prometheus has loaded every defined alert rule",
			Group: Operations, Item: itemAlertRules, Severity: Medium,
			Rationale:   "A rule file that is not mounted, or fails to parse, is silently missing from Prometheus: the ConfigMap looks right and nothing ever fires.",
			Remediation: "Mount the rules file into Prometheus and list it in rule_files; check /api/v1/rules (or promtool check rules) after every change.",
			Needs:       []string{ResConfigMaps, ResPrometheusRules},
			Eval:        evalAlertRulesLoaded,
		},
		{
			ID: "monitoring-alertmanager", Title: "Alertmanager runs, is configured and is Prometheus's alert target",
			Group: Operations, Item: itemAlertRules, PCI: []string{"12.10.5"}, Severity: High,
			Rationale:   "Alerts need a route to a human: Prometheus must point at an Alertmanager whose configuration has a route and receivers.",
			Remediation: "Run Alertmanager with a config that routes to the on-call receiver and list it under alerting.alertmanagers in prometheus.yml.",
			Needs:       []string{ResConfigMaps, ResDeployments, ResStatefulSets},
			Eval:        evalAlertmanager,
		},
		{
			ID: "monitoring-on-call", Title: "On-call procedures are documented",
			Group: Operations, Item: itemOnCall, PCI: []string{"12.10.1", "12.10.3"}, Severity: Medium,
			Rationale:   "PCI 12.10.3 asks for specific personnel available 24/7 to respond to alerts, following a documented plan.",
			Remediation: "Document the rota and runbooks (one per alert, linked from its runbook_url annotation) and route critical alerts to a paging receiver.",
			Needs:       []string{ResConfigMaps},
			Eval:        evalOnCall,
		},
	}
}

func evalScrape(inv *Inventory) []Finding {
	var out []Finding
	for _, w := range inv.workloads() {
		if w.Kind == "Job" || w.Kind == "CronJob" || w.Kind == "Pod" {
			continue
		}
		a := w.Template.Annotations
		field := "spec.template.metadata.annotations"
		switch {
		case a[annotationScrape] == "true" && a[annotationPort] != "":
			out = append(out, finding(Pass, w.Ref(), "%s[%s]=true, [%s]=%s", field, annotationScrape, annotationPort, a[annotationPort]))
		case a[annotationScrape] == "true":
			out = append(out, finding(Warn, w.Ref(), "%s[%s]=true but [%s] unset: Prometheus guesses the port", field, annotationScrape, annotationPort))
		case a[annotationScrape] != "":
			out = append(out, finding(Fail, w.Ref(), "%s[%s]=%s", field, annotationScrape, a[annotationScrape]))
		default:
			out = append(out, finding(Fail, w.Ref(), "%s[%s] unset: not scraped", field, annotationScrape))
		}
	}
	return out
}

func evalDashboards(inv *Inventory) []Finding {
	var names, broken []string
	for _, cm := range inv.ConfigMaps {
		if cm.Labels["grafana_dashboard"] == "" {
			continue
		}
		names = append(names, cm.Namespace+"/"+cm.Name)
		for _, key := range slices.Sorted(maps.Keys(cm.Data)) {
			if strings.HasSuffix(key, ".json") && !json.Valid([]byte(cm.Data[key])) {
				broken = append(broken, fmt.Sprintf("ConfigMap %s/%s data[%s]", cm.Namespace, cm.Name, key))
			}
		}
	}
	if len(broken) > 0 {
		return []Finding{finding(Fail, clusterResource, "dashboard %s is not valid JSON: Grafana's provisioning rejects it", strings.Join(broken, ", "))}
	}
	if len(names) > 0 {
		return []Finding{finding(Pass, clusterResource, "dashboard ConfigMaps (label grafana_dashboard): %s", strings.Join(names, ", "))}
	}
	var grafana *Workload
	for _, w := range inv.workloads() {
		if strings.Contains(parseImage(firstImage(w)).Path, "grafana/grafana") {
			grafana = &w
		}
	}
	if grafana == nil {
		return []Finding{finding(Unknown, clusterResource, "no ConfigMap labelled grafana_dashboard and no Grafana workload in the inventory; dashboards of a Grafana elsewhere are not visible to the Kubernetes API. Evidence would be provisioning ConfigMaps or Grafana's /api/search listing the service dashboards")}
	}
	store, provisioned := grafanaStorage(grafana)
	switch {
	case provisioned != "":
		return []Finding{finding(Pass, clusterResource, "Grafana %s mounts dashboards from %s", grafana.Ref(), provisioned)}
	case store == "":
		return []Finding{finding(Fail, clusterResource, "Grafana runs as %s with no dashboard provisioned (no ConfigMap labelled grafana_dashboard, none mounted) and its data directory /var/lib/grafana on no persistent volume: any dashboard lives in a database lost at the pod's next restart", grafana.Ref())}
	}
	return []Finding{finding(Unknown, clusterResource, "no ConfigMap labelled grafana_dashboard; Grafana %s keeps its database on %s, where dashboards made in its UI are not visible to the Kubernetes API. Evidence would be Grafana's /api/search listing the service dashboards", grafana.Ref(), store)}
}

// grafanaStorage returns the persistent volume claim behind Grafana's data
// directory (/var/lib/grafana, its default), and a ConfigMap volume
// mounted where dashboards are provisioned from, if any.
func grafanaStorage(w *Workload) (store, provisioned string) {
	vols := map[string]corev1.Volume{}
	for _, v := range w.Spec().Volumes {
		vols[v.Name] = v
	}
	for _, c := range w.Spec().Containers {
		for _, m := range c.VolumeMounts {
			v := vols[m.Name]
			switch {
			case strings.Contains(m.MountPath, "dashboards") && (v.ConfigMap != nil || v.Projected != nil):
				provisioned = fmt.Sprintf("volume %s at %s", m.Name, m.MountPath)
			case m.MountPath == "/var/lib/grafana" && v.PersistentVolumeClaim != nil:
				store = "PersistentVolumeClaim " + v.PersistentVolumeClaim.ClaimName
			}
		}
	}
	return store, provisioned
}

func firstImage(w Workload) string {
	if len(w.Spec().Containers) == 0 {
		return ""
	}
	return w.Spec().Containers[0].Image
}

// alertSource is one place alert rules are defined.
type alertSource struct {
	Where  string
	Alerts []string
}

type alertSources []alertSource

func (s alertSources) names() []string {
	var out []string
	for _, src := range s {
		out = append(out, src.Alerts...)
	}
	return out
}

// ruleFile is the shape of a Prometheus rule file.
type ruleFile struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []struct {
			Alert       string            `json:"alert"`
			Record      string            `json:"record"`
			Expr        string            `json:"expr"`
			Annotations map[string]string `json:"annotations"`
		} `json:"rules"`
	} `json:"groups"`
}

// definedAlerts finds alert rules in ConfigMaps (any data key holding a
// Prometheus rule file) and PrometheusRule objects.
func (inv *Inventory) definedAlerts() alertSources {
	var out alertSources
	for _, cm := range inv.ConfigMaps {
		for _, key := range slices.Sorted(maps.Keys(cm.Data)) {
			if !strings.Contains(cm.Data[key], "groups:") {
				continue
			}
			var rf ruleFile
			if yaml.Unmarshal([]byte(cm.Data[key]), &rf) != nil {
				continue
			}
			var alerts []string
			for _, g := range rf.Groups {
				for _, r := range g.Rules {
					if r.Alert != "" {
						alerts = append(alerts, r.Alert)
					}
				}
			}
			if len(alerts) > 0 {
				out = append(out, alertSource{fmt.Sprintf("ConfigMap %s/%s data[%s]", cm.Namespace, cm.Name, key), alerts})
			}
		}
	}
	for _, pr := range inv.PrometheusRules {
		groups, _, _ := unstructured.NestedSlice(pr.Object, "spec", "groups")
		var alerts []string
		for _, g := range groups {
			rules, _, _ := unstructured.NestedSlice(map[string]any{"g": g}, "g", "rules")
			for _, r := range rules {
				if a, _, _ := unstructured.NestedString(map[string]any{"r": r}, "r", "alert"); a != "" {
					alerts = append(alerts, a)
				}
			}
		}
		if len(alerts) > 0 {
			out = append(out, alertSource{fmt.Sprintf("PrometheusRule %s/%s", pr.GetNamespace(), pr.GetName()), alerts})
		}
	}
	return out
}

func evalAlertRulesDefined(inv *Inventory) []Finding {
	srcs := inv.definedAlerts()
	if len(srcs) == 0 {
		return []Finding{finding(Fail, clusterResource, "no ConfigMap data key holds a Prometheus rule file with alerts, and no PrometheusRule defines one")}
	}
	var parts []string
	for _, s := range srcs {
		parts = append(parts, fmt.Sprintf("%s: %d alerts (%s)", s.Where, len(s.Alerts), strings.Join(s.Alerts, ", ")))
	}
	return append([]Finding{finding(Pass, clusterResource, "%s", strings.Join(parts, "; "))}, inv.percentWithoutRatio()...)
}

// percentInText finds a percentage in an alert's summary or description.
var percentInText = regexp.MustCompile(`\d+(\.\d+)?\s*%`)

// percentWithoutRatio warns about alert rules whose annotations promise a
// percentage while the expression divides nothing: it then thresholds an
// absolute value (a rate of errors per second, not a share of requests),
// and fires on busy services and never on quiet ones (estate flaw F21:
// HighErrorRate "above 10%" on rate(5xx) > 0.1).
func (inv *Inventory) percentWithoutRatio() []Finding {
	var out []Finding
	for _, cm := range inv.ConfigMaps {
		var bad []string
		for _, key := range slices.Sorted(maps.Keys(cm.Data)) {
			if !strings.Contains(cm.Data[key], "groups:") {
				continue
			}
			var rf ruleFile
			if yaml.Unmarshal([]byte(cm.Data[key]), &rf) != nil {
				continue
			}
			for _, g := range rf.Groups {
				for _, r := range g.Rules {
					if r.Alert == "" || strings.Contains(r.Expr, "/") {
						continue
					}
					for _, a := range []string{"summary", "description"} {
						if m := percentInText.FindString(r.Annotations[a]); m != "" {
							bad = append(bad, fmt.Sprintf("data[%s] alert %s: annotations.%s speaks of %s but expr %q divides nothing: it thresholds an absolute value, not a ratio", key, r.Alert, a, m, r.Expr))
							break
						}
					}
				}
			}
		}
		if len(bad) > 0 {
			out = append(out, finding(Warn, Resource{Kind: "ConfigMap", Namespace: cm.Namespace, Name: cm.Name}, "%s", strings.Join(bad, "; ")))
		}
	}
	return out
}

func evalAlertRulesLoaded(inv *Inventory) []Finding {
	defined := inv.definedAlerts().names()
	if len(defined) == 0 {
		return []Finding{finding(NotApplicable, clusterResource, "no alert rules defined (see monitoring-alert-rules-defined)")}
	}
	if inv.LoadedAlertRules == nil {
		return []Finding{finding(Unknown, clusterResource, "Prometheus was not queried: the loaded rules come from its /api/v1/rules, not the Kubernetes API (run vigil check with --prometheus-url). Defined: %s", strings.Join(defined, ", "))}
	}
	var missing []string
	for _, a := range defined {
		if !slices.Contains(inv.LoadedAlertRules, a) {
			missing = append(missing, a)
		}
	}
	if len(missing) > 0 {
		return []Finding{finding(Fail, clusterResource, "defined but not loaded in Prometheus: %s (loaded: %d rules)", strings.Join(missing, ", "), len(inv.LoadedAlertRules))}
	}
	return []Finding{finding(Pass, clusterResource, "all %d defined alerts are loaded in Prometheus (%s)", len(defined), strings.Join(defined, ", "))}
}

// amConfig is the part of an Alertmanager configuration the checks read.
type amConfig struct {
	Route *struct {
		Receiver string `json:"receiver"`
	} `json:"route"`
	Receivers []map[string]any `json:"receivers"`
}

// promConfig is the part of prometheus.yml the checks read.
type promConfig struct {
	Alerting struct {
		Alertmanagers []map[string]any `json:"alertmanagers"`
	} `json:"alerting"`
	RuleFiles []string `json:"rule_files"`
}

// alertmanagerConfigs returns parsed Alertmanager configs found in
// ConfigMaps, keyed by where they were found.
func (inv *Inventory) alertmanagerConfigs() (where []string, cfgs []amConfig) {
	for _, cm := range inv.ConfigMaps {
		for _, key := range slices.Sorted(maps.Keys(cm.Data)) {
			if !strings.Contains(key, "alertmanager") {
				continue
			}
			var c amConfig
			if yaml.Unmarshal([]byte(cm.Data[key]), &c) == nil && c.Route != nil {
				where = append(where, fmt.Sprintf("ConfigMap %s/%s data[%s]", cm.Namespace, cm.Name, key))
				cfgs = append(cfgs, c)
			}
		}
	}
	return where, cfgs
}

func evalAlertmanager(inv *Inventory) []Finding {
	var am string
	for _, w := range inv.servingWorkloads() {
		if strings.Contains(w.Name, "alertmanager") || strings.Contains(parseImage(firstImage(w)).Path, "alertmanager") {
			am = w.Ref().String()
		}
	}
	where, cfgs := inv.alertmanagerConfigs()
	var promTargets []string
	for _, cm := range inv.ConfigMaps {
		for _, key := range slices.Sorted(maps.Keys(cm.Data)) {
			if !strings.HasPrefix(key, "prometheus") {
				continue
			}
			var pc promConfig
			if yaml.Unmarshal([]byte(cm.Data[key]), &pc) == nil && len(pc.Alerting.Alertmanagers) > 0 {
				promTargets = append(promTargets, fmt.Sprintf("ConfigMap %s/%s data[%s] alerting.alertmanagers (%d)", cm.Namespace, cm.Name, key, len(pc.Alerting.Alertmanagers)))
			}
		}
	}
	var problems, ok []string
	if am == "" {
		problems = append(problems, "no Alertmanager Deployment or StatefulSet")
	} else {
		ok = append(ok, am)
	}
	switch {
	case len(cfgs) == 0:
		problems = append(problems, "no Alertmanager configuration in a ConfigMap (a config kept in a Secret is not readable by vigil)")
	case cfgs[0].Route.Receiver == "" || len(cfgs[0].Receivers) == 0:
		problems = append(problems, where[0]+" has no route receiver or no receivers")
	default:
		ok = append(ok, fmt.Sprintf("%s route.receiver=%s, %d receivers", where[0], cfgs[0].Route.Receiver, len(cfgs[0].Receivers)))
	}
	if len(promTargets) == 0 {
		problems = append(problems, "no prometheus.yml with alerting.alertmanagers")
	} else {
		ok = append(ok, promTargets...)
	}
	switch {
	case am == "" && len(cfgs) == 0:
		return []Finding{finding(Fail, clusterResource, "%s", strings.Join(problems, "; "))}
	case len(problems) > 0:
		return []Finding{finding(Warn, clusterResource, "%s; found: %s", strings.Join(problems, "; "), strings.Join(ok, "; "))}
	}
	return []Finding{finding(Pass, clusterResource, "%s", strings.Join(ok, "; "))}
}

var pagingReceivers = []string{"pagerduty_configs", "opsgenie_configs", "victorops_configs"}

func evalOnCall(inv *Inventory) []Finding {
	_, cfgs := inv.alertmanagerConfigs()
	var kinds []string
	for _, c := range cfgs {
		for _, r := range c.Receivers {
			for k := range r {
				if strings.HasSuffix(k, "_configs") && !slices.Contains(kinds, k) {
					kinds = append(kinds, k)
				}
			}
		}
	}
	slices.Sort(kinds)
	paging := slices.ContainsFunc(kinds, func(k string) bool { return slices.Contains(pagingReceivers, k) })
	note := "Alertmanager receivers: none found"
	if len(kinds) > 0 {
		note = "Alertmanager receivers: " + strings.Join(kinds, ", ")
		if !paging {
			note += " (no paging integration such as pagerduty_configs or opsgenie_configs)"
		}
	}
	return []Finding{finding(Unknown, clusterResource, "on-call rotas and runbooks are documents outside the cluster; %s. Evidence would be the published rota, a runbook per alert (runbook_url annotations) and a paging receiver", note)}
}
