package checks_test

import (
	"testing"

	"github.com/vigil-k8s/vigil/checks"
)

// TestFintechRBACVerdicts: the estate's RBAC (testdata/fintech/all/10-rbac.yaml)
// judged by effect: prometheus's cluster-admin binding (F4) and the staging
// developers' wildcard Role (F3, a group, in its namespace) fail every power;
// the secret controllers read Secrets; the seed's own binding reads only
// named Secrets.
func TestFintechRBACVerdicts(t *testing.T) {
	fs, _ := runEstate(t, "local-1")
	const prom, dev = "ClusterRoleBinding/prometheus-cluster-admin", "RoleBinding/fintech-staging/staging-developer"
	assertFindings(t, fs, []expectation{
		{"F4", "rbac-no-cluster-admin-service-accounts", prom, checks.Fail, "roleRef=ClusterRole/cluster-admin (built-in) grants every verb on every resource (cluster-admin-equivalent) cluster-wide"},
		{"F4", "rbac-no-escalation", prom, checks.Fail, "escalate or bind roles, or impersonate cluster-wide"},
		{"F4", "rbac-no-pod-exec", prom, checks.Fail, "exec into or attach to pods cluster-wide"},
		{"F4", "rbac-no-workload-create", prom, checks.Fail, "create pods or workloads cluster-wide"},
		{"F4", "rbac-secrets-resource-names", prom, checks.Fail, "read Secrets cluster-wide"},
		{"F3", "rbac-no-cluster-admin-service-accounts", dev, checks.Fail, "in namespace fintech-staging to subjects[0]=Group fintech-developers"},
		{"F3", "rbac-no-pod-exec", dev, checks.Fail, "in namespace fintech-staging"},
		{"controller", "rbac-secrets-resource-names", "ClusterRoleBinding/external-secrets-controller", checks.Fail, "rules[3]: apiGroups=[] resources=[secrets]"},
		{"ok", "rbac-secrets-resource-names", "RoleBinding/fintech-prod/fintech-service-binding", checks.Pass, "by resourceNames only"},
		{"ok", "rbac-no-escalation", "ClusterRoleBinding/vault-agent-injector-binding", checks.Pass, "does not let"},
		{"ok", "rbac-no-workload-create", "ClusterRoleBinding/external-secrets-controller", checks.Pass, "does not let"},
	})
}
