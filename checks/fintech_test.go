package checks_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/load"
)

// expectation is one finding the seed estate must produce.
type expectation struct {
	flaw     string // testdata/fintech/README.md's flaw id, or "ok" for a healthy counterpart
	check    string
	resource string // Resource.String()
	status   checks.Status
	evidence string
}

func runEstate(t *testing.T, cluster string) ([]checks.Finding, *checks.Inventory) {
	t.Helper()
	root := filepath.Join("..", "testdata", "fintech")
	inv, err := load.Paths([]string{filepath.Join(root, "all"), filepath.Join(root, cluster)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return checks.Run(checks.Catalogue(), inv), inv
}

func assertFindings(t *testing.T, fs []checks.Finding, want []expectation) {
	t.Helper()
	for _, e := range want {
		found := false
		for _, f := range fs {
			if f.Check == e.check && f.Resource.String() == e.resource {
				found = true
				if f.Status != e.status || !strings.Contains(f.Evidence, e.evidence) {
					t.Errorf("%s: %s on %s: got %s %q, want %s containing %q", e.flaw, e.check, e.resource, f.Status, f.Evidence, e.status, e.evidence)
				}
			}
		}
		if !found {
			t.Errorf("%s: %s reported nothing on %s", e.flaw, e.check, e.resource)
		}
	}
}

// TestFintechEstateLocal1 runs the catalogue over the seed's estate as
// cluster local-1 applies it, and asserts that the deliberate flaws listed
// in testdata/fintech/README.md are found, and their healthy counterparts
// pass.
func TestFintechEstateLocal1(t *testing.T) {
	fs, _ := runEstate(t, "local-1")
	assertFindings(t, fs, []expectation{
		{"F1", "pss-namespace-enforce-restricted", "Namespace/fintech-prod", checks.Fail, "enforce]=baseline, restricted only warned"},
		{"F1", "pss-namespace-enforce-restricted", "Namespace/fintech-staging", checks.Fail, "enforce] unset"},
		{"F1", "pss-namespace-enforce-restricted", "Namespace/fintech-monitoring", checks.Fail, "enforce] unset"},
		{"F2", "pss-pods-restricted", "Deployment/fintech-prod/api-gateway", checks.Fail, "seccompProfile"},
		{"F2", "pss-pods-restricted", "Deployment/fintech-staging/api-gateway", checks.Fail, "seccompProfile"},
		{"F2", "pss-pods-restricted", "Deployment/kube-system/sealed-secrets-controller", checks.Fail, "seccompProfile"},
		{"F3", "rbac-no-wildcards", "Role/fintech-staging/staging-developer", checks.Fail, "apiGroups=[*] resources=[*] verbs=[*]"},
		{"F4", "rbac-no-cluster-admin-service-accounts", "ClusterRoleBinding/prometheus-cluster-admin", checks.Fail, "ServiceAccount fintech-monitoring/prometheus"},
		{"F5", "rbac-default-service-account", "Deployment/fintech-prod/user-service", checks.Fail, "runs as \"default\""},
		{"F5", "rbac-default-service-account", "Deployment/fintech-staging/notification-service", checks.Fail, "runs as \"default\""},
		{"F5", "rbac-automount-token", "Deployment/fintech-prod/user-service", checks.Fail, "token mounted"},
		{"F6", "net-default-deny", "Namespace/fintech-staging", checks.Fail, "0 policies in the namespace"},
		{"F6", "net-pods-selected", "Deployment/fintech-staging/payment-service", checks.Fail, "no NetworkPolicy in fintech-staging"},
		{"F6", "net-pci-ingress-restricted", "Deployment/fintech-staging/payment-service", checks.Fail, "reachable from every pod"},
		{"F7", "ingress-tls", "Ingress/fintech-staging/api-gateway", checks.Fail, "spec.tls unset"},
		{"F8", "mesh-peer-authentication-strict", "Namespace/fintech-staging", checks.Fail, "spec.mtls.mode=PERMISSIVE"},
		{"F9", "monitoring-scrape-annotations", "Deployment/fintech-staging/api-gateway", checks.Fail, "not scraped"},
		{"F9", "monitoring-scrape-annotations", "Deployment/fintech-staging/user-service", checks.Fail, "not scraped"},
		{"F10", "ops-replicas", "StatefulSet/fintech-prod/postgres", checks.Fail, "spec.replicas=1"},
		{"F10", "data-backups", "StatefulSet/fintech-prod/postgres", checks.Fail, "no backup CronJob"},
		{"F11", "ops-resources", "Deployment/fintech-monitoring/grafana", checks.Fail, "limits.memory unset"},
		{"F12", "ops-probes", "Deployment/fintech-prod/user-service", checks.Fail, "readinessProbe, livenessProbe unset"},
		{"F13", "rbac-no-stale-rules", "ClusterRole/fintech-psp-user", checks.Warn, "podsecuritypolicies"},
		{"F14", "secrets-single-producer", "Secret/fintech-prod/payment-secrets", checks.Fail, "produced by 2 controllers"},
		{"F14", "secrets-from-external-secrets", "Deployment/fintech-prod/payment-service", checks.Warn, "a SealedSecret also produces it"},
		{"F14", "secrets-rotation", "SealedSecret/fintech-prod/payment-secrets", checks.Warn, "static"},
		{"F16", "images-pinned", "Deployment/fintech-prod/notification-service", checks.Fail, "mutable tag latest"},
		{"F16", "images-allowed-registry", "Deployment/fintech-prod/notification-service", checks.Fail, "registry docker.io"},
		{"F16", "images-allowed-registry", "Deployment/fintech-monitoring/grafana", checks.Fail, "registry docker.io"},
		{"F17", "ops-resources", "Deployment/fintech-prod/notification-service", checks.Fail, "limits.memory unset"},
		{"F18", "pss-pods-restricted", "Deployment/fintech-prod/notification-service", checks.Fail, "runAsUser=0"},
		{"F20", "ops-gitops-argocd", "Deployment/fintech-prod/notification-service", checks.Fail, "no Argo CD Application lists"},
		{"F22", "ops-hpa", "Deployment/fintech-prod/user-service", checks.Fail, "no HorizontalPodAutoscaler"},
		{"F22", "ops-hpa", "Deployment/fintech-prod/payment-service", checks.Fail, "no HorizontalPodAutoscaler"},
		{"F24", "ops-resources", "Deployment/kube-system/sealed-secrets-controller", checks.Fail, "requests.cpu, requests.memory, limits.memory unset"},
		{"F24", "images-allowed-registry", "Deployment/kube-system/sealed-secrets-controller", checks.Fail, "registry quay.io"},
		{"F25", "secrets-external-secret-ready", "ExternalSecret/fintech-prod/notification-provider-secrets", checks.Fail, "SecretSyncedError"},
		{"F15", "mesh-fields-known", "DestinationRule/fintech-prod/payment-service-dr", checks.Fail, "spec.trafficPolicy.circuitBreaker: not DestinationRule fields"},
		{"F21", "monitoring-alert-rules-defined", "ConfigMap/fintech-monitoring/fintech-rules", checks.Warn, "alert HighErrorRate: annotations.description speaks of 10% but expr"},
		{"F23", "ops-gitops-argocd", "AppProject/argocd/fintech-project", checks.Fail, "does not permit ServiceAccount (fintech-prod), VerticalPodAutoscaler (fintech-prod), HorizontalPodAutoscaler (fintech-prod)"},
		{"F26", "audit-namespace-level", "Namespace/fintech-prod", checks.Fail, "audit.kubernetes.io/level]=Metadata is read by no Kubernetes component"},
		{"F26", "audit-apiserver-policy", "Cluster", checks.Unknown, "convention the apiserver does not read"},
		// The staging Argo CD app (manual sync, OutOfSync, Degraded).
		{"staging-app", "ops-gitops-argocd", "Deployment/fintech-staging/user-service", checks.Fail, "status.sync.status=OutOfSync status.health.status=Degraded"},
		// Beyond the README: the namespace-wide scrape allow admits fintech-monitoring to payment-service's port.
		{"scrape", "net-pci-ingress-restricted", "Deployment/fintech-prod/payment-service", checks.Fail, "allow-monitoring-scrape spec.ingress[0].from[0] namespaceSelector={purpose=monitoring} on port 3000,3001,3002,9187"},
		{"exporter", "data-no-plaintext-connections", "StatefulSet/fintech-prod/postgres", checks.Fail, "sslmode=disable"},

		{"ok", "net-default-deny", "Namespace/fintech-prod", checks.Pass, "fintech-default-deny"},
		{"ok", "mesh-peer-authentication-strict", "Namespace/fintech-prod", checks.Pass, "STRICT"},
		{"ok", "mesh-destination-rule-istio-mutual", "DestinationRule/fintech-prod/payment-service-dr", checks.Pass, "ISTIO_MUTUAL"},
		{"ok", "ingress-tls", "Ingress/fintech-prod/api-gateway", checks.Pass, "secretName=api-gateway-tls"},
		{"ok", "pss-namespace-enforce-restricted", "Namespace/fintech-security", checks.Pass, "restricted"},
		{"ok", "pss-pods-restricted", "Deployment/fintech-prod/payment-service", checks.Pass, "allowed"},
		{"ok", "pss-pods-restricted", "Deployment/fintech-security/external-secrets", checks.Pass, "allowed"},
		{"ok", "rbac-no-wildcards", "ClusterRole/external-secrets-controller", checks.Pass, "none with `*`"},
		{"ok", "rbac-secrets-resource-names", "RoleBinding/fintech-prod/fintech-service-binding", checks.Pass, "resourceNames=[payment-secrets database-secrets]"},
		{"ok", "ops-gitops-argocd", "Deployment/fintech-prod/payment-service", checks.Pass, "selfHeal=true"},
		{"ok", "ops-hpa", "Deployment/fintech-prod/api-gateway", checks.Pass, "spec.minReplicas=3"},
		{"ok", "ops-rolling-update", "Deployment/fintech-prod/api-gateway", checks.Pass, "maxUnavailable=0"},
		{"ok", "ops-pdb", "Deployment/fintech-prod/api-gateway", checks.Pass, "minAvailable=2"},
		{"ok", "ops-vpa-hpa-conflict", "VerticalPodAutoscaler/fintech-prod/payment-service-vpa", checks.Pass, "no HorizontalPodAutoscaler targets it"},
		{"ok", "monitoring-alert-rules-defined", "Cluster", checks.Pass, "HighErrorRate, PaymentServiceDown, DatabaseConnectionHigh"},
		{"ok", "monitoring-alertmanager", "Cluster", checks.Pass, "route.receiver=fintech-oncall"},
		{"ok", "images-allowed-registry", "Deployment/fintech-prod/payment-service", checks.Pass, "registry.fintech.internal/fintech/payment-service:v1.2.3"},
	})
}

func TestFintechEstateLocal2(t *testing.T) {
	fs, _ := runEstate(t, "local-2")
	assertFindings(t, fs, []expectation{
		{"F19", "secrets-references-exist", "Deployment/fintech-prod/payment-service", checks.Fail, "Secret fintech-prod/fintech-registry-dr does not exist"},
		{"no-argo", "ops-gitops-argocd", "Deployment/fintech-prod/payment-service", checks.Warn, "Argo CD absent"},
		{"F5", "rbac-default-service-account", "Deployment/fintech-prod/user-service", checks.Fail, "runs as \"default\""},
	})
}

// TestSecretValuesNeverReachFindings: the estate's Secrets carry
// placeholder data and notification-service-like literals; no finding may
// repeat a value.
func TestSecretValuesNeverReachFindings(t *testing.T) {
	fs, inv := runEstate(t, "local-1")
	for _, s := range inv.Secrets {
		if len(s.Data) > 0 || len(s.StringData) > 0 {
			t.Errorf("Secret %s/%s kept its data", s.Namespace, s.Name)
		}
	}
	for _, f := range fs {
		for _, bad := range []string{"PLACEHOLDER", "UExBQ0VIT0xERVI", "cG9zdGdyZXM6Ly9"} {
			if strings.Contains(f.Evidence, bad) {
				t.Errorf("%s on %s: evidence leaks secret material: %s", f.Check, f.Resource, f.Evidence)
			}
		}
	}
}
