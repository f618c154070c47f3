package checks

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

const (
	itemAuditLogging   = "Audit logging enabled"
	itemLogAggregation = "Centralized log aggregation"
	itemLogRetention   = "Log retention policies"
	itemSecurityEvents = "Security event monitoring"
	itemTransitAtRest  = "Encryption in transit and at rest"
	itemPII            = "PII data handling procedures"
	itemBackupDR       = "Backup and disaster recovery"
	itemSovereignty    = "Data sovereignty compliance"

	annotationAuditLevel = "audit.kubernetes.io/level"
)

func auditChecks() []Check {
	return []Check{
		{
			ID: "audit-namespace-level", Title: "No namespace claims an audit level through an annotation the apiserver ignores",
			Group: Compliance, Item: itemAuditLogging, Severity: Low,
			Rationale:   "The seed annotates fintech-prod with audit.kubernetes.io/level: Metadata, but no Kubernetes component reads that annotation: the apiserver's audit level comes from the rules of its audit Policy (--audit-policy-file), matched by namespace name. The annotation gives a reviewer false assurance that the namespace is audited at that level (estate flaw F26).",
			Remediation: "Remove the annotation and put the namespace in the apiserver's audit Policy instead (a rule with namespaces: [<name>] and level: Metadata, or RequestResponse for cardholder-data namespaces); keep the Policy as evidence (audit-apiserver-policy).",
			Needs:       []string{ResNamespaces},
			Eval:        evalAuditAnnotation,
		},
		{
			ID: "audit-apiserver-policy", Title: "The API server writes an audit log",
			Group: Compliance, Item: itemAuditLogging, PCI: []string{"10.2.1", "10.2.1.2"}, Severity: High,
			Rationale:   "PCI 10.2 needs a record of every access to the cardholder-data environment, including by administrators: only the apiserver's audit log has it.",
			Remediation: "Run the apiserver with --audit-policy-file and --audit-log-path (or --audit-webhook-config-file), or enable the platform's audit logs, and keep the configuration as evidence.",
			Needs:       []string{ResAPIServerPods},
			Eval:        evalAPIServerAudit,
		},
		{
			ID: "logs-centralized", Title: "Logs are shipped to a central store",
			Group: Compliance, Item: itemLogAggregation, PCI: []string{"10.3.3"}, Severity: Medium,
			Rationale:   "Container logs on a node disappear with the pod or the node; an attacker with node access can also alter them. A shipper copies them off the node.",
			Remediation: "Run a log shipper (fluent-bit, vector, promtail, OpenTelemetry collector) as a DaemonSet sending to the central store, or enable the platform's logging agent.",
			Needs:       []string{ResDaemonSets, ResDeployments, ResStatefulSets, ResAllDaemonSets, ResAllDeployments},
			Eval:        evalLogShipper,
		},
		{
			ID: "logs-retention", Title: "Logs are retained for at least a year",
			Group: Compliance, Item: itemLogRetention, PCI: []string{"10.5.1"}, Severity: Medium,
			Rationale:   "PCI 10.5.1 asks for audit-log history of at least twelve months, three immediately available.",
			Remediation: "Set the log backend's retention (Loki retention_period, Elasticsearch ILM, Cloud Logging bucket retention) to ≥ 365 days and keep it as evidence.",
			Eval: func(*Inventory) []Finding {
				return []Finding{finding(Unknown, clusterResource, "retention is a setting of the log backend (Loki, Elasticsearch, Cloud Logging bucket), not a Kubernetes object; evidence would be that setting showing ≥ 365 days with 90 days searchable")}
			},
		},
		{
			ID: "security-event-monitoring", Title: "Security events are detected and alerted on",
			Group: Compliance, Item: itemSecurityEvents, PCI: []string{"10.4.1.1", "12.10.5"}, Severity: Medium,
			Rationale:   "Someone must be told when a shell spawns in the payment pod or a Secret is read by an unexpected identity; availability alerts do not cover that.",
			Remediation: "Run a runtime detector (Falco, Tetragon) as a DaemonSet and route its alerts, and audit-log alerts, to the incident-response channel.",
			Needs:       []string{ResDaemonSets, ResDeployments, ResStatefulSets, ResAllDaemonSets, ResAllDeployments},
			Eval:        evalSecurityMonitor,
		},
	}
}

// evalAuditAnnotation fails a namespace that carries the
// audit.kubernetes.io/level annotation: the apiserver never reads it (its
// audit Policy decides the level), so it claims an audit level nothing
// applies. A namespace without it claims nothing and passes; whether the
// apiserver audits at all is audit-apiserver-policy's question.
func evalAuditAnnotation(inv *Inventory) []Finding {
	var out []Finding
	field := "metadata.annotations[" + annotationAuditLevel + "]"
	for _, ns := range inv.scopedNamespaces() {
		r := Resource{Kind: "Namespace", Name: ns.Name}
		if v, ok := ns.Annotations[annotationAuditLevel]; ok {
			out = append(out, finding(Fail, r, "%s=%s is read by no Kubernetes component: the apiserver audits this namespace at whatever its audit Policy's rules say, not at %s", field, v, v))
		} else {
			out = append(out, finding(Pass, r, "%s unset: the namespace claims no audit level of its own (the level is the apiserver audit Policy's: see audit-apiserver-policy)", field))
		}
	}
	return out
}

// findWorkloadByImage returns the first workload (of the given kinds) with a
// container image matching re, as "Kind/ns/name (image)": those of the
// watched namespaces, then the Deployments of every namespace.
func (inv *Inventory) findWorkloadByImage(re *regexp.Regexp, kinds ...string) string {
	ws := inv.workloads()
	for _, d := range inv.AllDeployments {
		ws = append(ws, Workload{Resource: Resource{"Deployment", d.Namespace, d.Name}, Template: d.Spec.Template})
	}
	for _, w := range ws {
		if !slices.Contains(kinds, w.Kind) {
			continue
		}
		for _, c := range w.Spec().Containers {
			if re.MatchString(parseImage(c.Image).Path) {
				return fmt.Sprintf("%s (%s)", w.Ref(), c.Image)
			}
		}
	}
	return ""
}

var logShippers = regexp.MustCompile(`(?i)(fluent-?bit|fluentd|vector|promtail|grafana/alloy|filebeat|opentelemetry-collector|otel/|logstash|datadog/agent)`)

// nodeAgent judges a per-node agent (log shipper, runtime detector) found
// by image: it must run as a DaemonSet, on every node it is scheduled to.
// A DaemonSet whose status says fewer pods are ready than scheduled leaves
// those nodes uncovered; one scheduled nowhere covers nothing; an agent
// that runs only as a Deployment (an aggregator, a forwarder) collects
// nothing from the nodes. ok is false when no such workload exists.
func (inv *Inventory) nodeAgent(re *regexp.Regexp, what string) (f Finding, ok bool) {
	var deployment string
	for _, d := range union(inv.DaemonSets, inv.AllDaemonSets) {
		for _, c := range d.Spec.Template.Spec.Containers {
			if !re.MatchString(parseImage(c.Image).Path) {
				continue
			}
			r := fmt.Sprintf("DaemonSet/%s/%s (%s)", d.Namespace, d.Name, c.Image)
			st := d.Status
			switch {
			case st.ObservedGeneration == 0 && st.DesiredNumberScheduled == 0:
				return finding(Pass, clusterResource, "%s found: %s (its status is not in the input)", what, r), true
			case st.DesiredNumberScheduled == 0:
				return finding(Fail, clusterResource, "%s %s is scheduled on no node (status.desiredNumberScheduled=0): it covers nothing", what, r), true
			case st.NumberReady < st.DesiredNumberScheduled:
				return finding(Fail, clusterResource, "%s %s is ready on %d of %d nodes (status.numberReady < desiredNumberScheduled): the other nodes are not covered", what, r, st.NumberReady, st.DesiredNumberScheduled), true
			}
			return finding(Pass, clusterResource, "%s found: %s, ready on all %d nodes", what, r, st.DesiredNumberScheduled), true
		}
	}
	if w := inv.findWorkloadByImage(re, "Deployment", "StatefulSet"); w != "" {
		deployment = w
	}
	if deployment != "" {
		return finding(Fail, clusterResource, "%s runs only as %s, not as a DaemonSet: nothing collects from each node", what, deployment), true
	}
	return Finding{}, false
}

func evalLogShipper(inv *Inventory) []Finding {
	if f, ok := inv.nodeAgent(logShippers, "log shipper"); ok {
		return []Finding{f}
	}
	return []Finding{finding(Unknown, clusterResource, "no log-shipper DaemonSet (fluent-bit, fluentd, vector, promtail, filebeat, otel collector) in the inventory; logs may still be shipped by the platform's node agent (e.g. GKE Cloud Logging), which the API does not show. Evidence would be the agent's DaemonSet or the platform logging setting")}
}

var securityMonitors = regexp.MustCompile(`(?i)(falco|tetragon|sysdig|aquasec|neuvector|tracee)`)

func evalSecurityMonitor(inv *Inventory) []Finding {
	if f, ok := inv.nodeAgent(securityMonitors, "runtime security monitor"); ok {
		return []Finding{f}
	}
	alerts := strings.Join(inv.definedAlerts().names(), ", ")
	if alerts == "" {
		alerts = "none"
	}
	return []Finding{finding(Unknown, clusterResource, "no runtime security monitor (Falco, Tetragon, ...) in the inventory and the defined alert rules (%s) cover availability, not security events; a SIEM outside the cluster is not visible to the API. Evidence would be the detector's DaemonSet or the SIEM's alert rules on audit events", alerts)}
}

func dataChecks() []Check {
	return []Check{
		{
			ID: "data-no-plaintext-connections", Title: "No connection string disables TLS",
			Group: Compliance, Item: itemTransitAtRest, PCI: []string{"2.2.5"}, Severity: Medium,
			Rationale:   "sslmode=disable (or useSSL=false) sends database credentials and data in the clear, outside what the mesh encrypts (e.g. to localhost sidecars bypassing it, or to external databases).",
			Remediation: "Use sslmode=verify-full (or require inside an mTLS mesh) and move the connection string into a Secret.",
			Needs:       []string{ResDeployments, ResStatefulSets, ResDaemonSets, ResPods},
			Eval:        evalPlaintextConnections,
		},
		{
			ID: "data-encrypted-at-rest", Title: "Persistent data is encrypted at rest",
			Group: Compliance, Item: itemTransitAtRest, PCI: []string{"3.5.1.2"}, Severity: High,
			Rationale:   "Database volumes hold cardholder data; PCI 3.5 needs it unreadable wherever stored.",
			Remediation: "Use a StorageClass whose disks are encrypted with a customer-managed key (e.g. GCE PD disk-encryption-kms-key) and keep the key's rotation record.",
			Needs:       []string{ResStorageClasses},
			Eval: func(inv *Inventory) []Finding {
				return []Finding{finding(Unknown, clusterResource, "disk encryption is a property of the storage backend: the StorageClasses (%s) name a provisioner and parameters, but whether its disks are encrypted, and with whose key, is the cloud disk's setting, not in the Kubernetes API; evidence would be the StorageClass parameters (e.g. disk-encryption-kms-key) and the cloud disk's encryption setting. In transit: see mesh-* and data-no-plaintext-connections", inv.storageClassesSeen())}
			},
		},
		{
			ID: "data-pii-procedures", Title: "PII handling procedures exist",
			Group: Compliance, Item: itemPII, PCI: []string{"3.2.1", "1.2.4"}, Severity: Medium,
			Rationale:   "Data classification labels (data-classification: confidential/restricted) are only as good as the procedure behind them.",
			Remediation: "Keep the data-handling procedure (classification, minimisation, retention, deletion) under document control and link it from the namespace annotations.",
			Eval: func(inv *Inventory) []Finding {
				return []Finding{finding(Unknown, clusterResource, "procedures are documents, not cluster state; the API shows only data-classification labels (%s). Evidence would be the approved data-handling procedure and the data-flow diagram", strings.Join(inv.classifications(), ", "))}
			},
		},
		{
			ID: "data-backups", Title: "Stateful workloads are backed up",
			Group: Compliance, Item: itemBackupDR, PCI: []string{"12.10.1"}, Severity: High,
			Rationale:   "A StatefulSet's volumes are the only copy of its data; without a scheduled, restore-tested backup a lost disk is lost data.",
			Remediation: "Schedule backups (a CronJob running pg_dump/wal-g to object storage, or Velero schedules with volume snapshots) and rehearse a restore.",
			Needs:       []string{ResStatefulSets, ResCronJobs},
			Eval:        evalBackups,
		},
		{
			ID: "data-sovereignty", Title: "Data stays in the allowed jurisdictions",
			Group: Compliance, Item: itemSovereignty, Severity: Medium,
			Rationale:   "Regulators (GDPR, local banking rules) constrain where customer data is stored and processed, including backups and external processors.",
			Remediation: "Document the allowed regions and pin nodes and volumes to them (topology.kubernetes.io/region), including backup buckets and payment processors.",
			Needs:       []string{ResNodes},
			Eval: func(inv *Inventory) []Finding {
				return []Finding{finding(Unknown, clusterResource, "location is a property of nodes, volumes, backup buckets and external processors: %s, but the allowed regions are a document, and volumes, buckets and processors are not read. Evidence would be the nodes' and volumes' topology.kubernetes.io/region labels against the documented allowed regions, plus the processors' contracts", inv.nodeRegions())}
			},
		},
	}
}

// classifications lists the distinct data-classification labels seen.
func (inv *Inventory) classifications() []string {
	var out []string
	add := func(kind, ns, name string, labels map[string]string) {
		if v := labels["data-classification"]; v != "" {
			out = append(out, fmt.Sprintf("%s %s=%s", kind, strings.TrimPrefix(ns+"/"+name, "/"), v))
		}
	}
	for _, ns := range inv.Namespaces {
		add("Namespace", "", ns.Name, ns.Labels)
	}
	for _, w := range inv.workloads() {
		add(w.Kind, w.Namespace, w.Name, w.Labels)
	}
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}

var plaintextConn = regexp.MustCompile(`(?i)(sslmode=disable|ssl=false|usessl=false|tls=false|encrypt=false)`)

func evalPlaintextConnections(inv *Inventory) []Finding {
	var out []Finding
	for _, w := range inv.workloads() {
		var bad []string
		for _, c := range allContainers(w.Spec(), w.Field) {
			for i, e := range c.Env {
				if m := plaintextConn.FindString(e.Value); m != "" && e.ValueFrom == nil {
					bad = append(bad, fmt.Sprintf("%s.env[%d](%s) contains %s", c.Field, i, e.Name, m))
				}
			}
			for i, a := range append(append([]string(nil), c.Command...), c.Args...) {
				if m := plaintextConn.FindString(a); m != "" {
					bad = append(bad, fmt.Sprintf("%s command/args[%d] contains %s", c.Field, i, m))
				}
			}
		}
		out = append(out, failOrPass(w.Ref(), bad, "no env literal or argument disables TLS"))
	}
	return out
}

func evalBackups(inv *Inventory) []Finding {
	var out []Finding
	for _, s := range inv.StatefulSets {
		if len(s.Spec.VolumeClaimTemplates) == 0 {
			continue
		}
		r := Resource{Kind: "StatefulSet", Namespace: s.Namespace, Name: s.Name}
		w := Workload{Resource: r, Labels: s.Labels, Template: s.Spec.Template}
		var found, suspended string
		for _, cj := range inv.CronJobs {
			if cj.Namespace != s.Namespace || !strings.Contains(strings.ToLower(cj.Name), "backup") {
				continue
			}
			if cj.Spec.Suspend != nil && *cj.Spec.Suspend {
				suspended = cj.Name
				continue
			}
			found = cj.Name
		}
		switch {
		case found != "":
			out = append(out, finding(Pass, r, "spec.volumeClaimTemplates[%d]; CronJob %s/%s backs up (restore testing is not visible to the API)", len(s.Spec.VolumeClaimTemplates), s.Namespace, found))
		case suspended != "":
			out = append(out, finding(Fail, r, "spec.volumeClaimTemplates has %d claims and its backup CronJob %s/%s is suspended (spec.suspend=true): no backup runs", len(s.Spec.VolumeClaimTemplates), s.Namespace, suspended))
		case inv.isCritical(w):
			out = append(out, finding(Fail, r, "spec.volumeClaimTemplates has %d claims on a critical service (PCI label or environment=production) and no backup CronJob is in namespace %s; a backup taken outside the cluster (Velero, managed snapshots) is not visible to vigil: its schedule is the evidence needed", len(s.Spec.VolumeClaimTemplates), s.Namespace))
		default:
			out = append(out, finding(Warn, r, "spec.volumeClaimTemplates has %d claims and no backup CronJob is in namespace %s; backups taken outside the cluster (Velero, managed snapshots) are not visible to vigil", len(s.Spec.VolumeClaimTemplates), s.Namespace))
		}
	}
	return out
}

// nodeRegions says where the inventory's nodes are, by their
// topology.kubernetes.io/region label.
func (inv *Inventory) nodeRegions() string {
	if len(inv.Nodes) == 0 {
		return "no Node in the inventory"
	}
	count := map[string]int{}
	for _, n := range inv.Nodes {
		r := n.Labels["topology.kubernetes.io/region"]
		if r == "" {
			r = "no region label"
		}
		count[r]++
	}
	parts := make([]string, 0, len(count))
	for _, r := range slices.Sorted(maps.Keys(count)) {
		parts = append(parts, fmt.Sprintf("%s (%d)", r, count[r]))
	}
	return fmt.Sprintf("the %d nodes' topology.kubernetes.io/region: %s", len(inv.Nodes), strings.Join(parts, ", "))
}

// storageClassesSeen names the StorageClasses with their provisioner and
// the parameters that speak of encryption.
func (inv *Inventory) storageClassesSeen() string {
	if len(inv.StorageClasses) == 0 {
		return "none in the inventory"
	}
	var out []string
	for _, sc := range inv.StorageClasses {
		s := sc.Name + " " + sc.Provisioner
		for _, k := range slices.Sorted(maps.Keys(sc.Parameters)) {
			if l := strings.ToLower(k); strings.Contains(l, "encrypt") || strings.Contains(l, "kms") {
				s += fmt.Sprintf(" %s=%s", k, sc.Parameters[k])
			}
		}
		out = append(out, s)
	}
	return strings.Join(out, "; ")
}
