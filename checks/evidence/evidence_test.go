package evidence

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/report"
)

func testInventory() *checks.Inventory {
	two := int32(2)
	pod := corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "migrate", Image: "registry.fintech.internal/payments/migrate:1.4"}},
		Containers: []corev1.Container{{Name: "app", Image: "registry.fintech.internal/payments/api:1.4",
			Env: []corev1.EnvVar{{Name: "DB_PASSWORD", Value: "hunter2-env"}}}},
	}
	return &checks.Inventory{
		Origin: "context local-1 (namespaces fintech-prod)",
		Namespaces: []*corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "fintech-prod",
			Labels: map[string]string{"pci-scope": "true", "environment": "production"}}}},
		Deployments: []*appsv1.Deployment{{ObjectMeta: metav1.ObjectMeta{Namespace: "fintech-prod", Name: "payment-service"},
			Spec: appsv1.DeploymentSpec{Replicas: &two, Template: corev1.PodTemplateSpec{Spec: pod}}}},
		Pods: []*corev1.Pod{{ObjectMeta: metav1.ObjectMeta{Namespace: "fintech-prod", Name: "debug"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "sh", Image: "docker.io/library/busybox:latest"}}}}},
		Secrets: []*corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Namespace: "fintech-prod", Name: "payment-db"},
			Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"password": []byte("hunter2-secret")}}},
		ConfigMaps: []*corev1.ConfigMap{{ObjectMeta: metav1.ObjectMeta{Namespace: "fintech-prod", Name: "cfg"},
			Data: map[string]string{"api-key": "hunter2-configmap"}}},
		Installed: map[string]bool{}, Forbidden: map[string]string{}, Config: checks.DefaultConfig(),
	}
}

func writeTestBundle(t *testing.T) string {
	t.Helper()
	inv := testInventory()
	cat := checks.Catalogue()
	findings := checks.Run(cat, inv)
	dir := filepath.Join(t.TempDir(), "evidence")
	yes := true
	b := Bundle{
		Identity: Identity{CollectedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Context: "local-1", User: "reviewer",
			Groups: []string{"system:authenticated"}, KubernetesVersion: "v1.37.2", Mode: "read-only", CredentialsAllowWrites: &yes},
		Estate:   EstateOf(inv),
		Report:   report.New(cat, findings, inv),
		AuditLog: []byte(`{"seq":1}` + "\n"),
	}
	names, err := Write(dir, b)
	if err != nil {
		t.Fatal(err)
	}
	if names[len(names)-1] != ManifestFile || len(names) != len(ReportFiles)+4 {
		t.Fatalf("files %v", names)
	}
	return dir
}

func TestWriteThenVerify(t *testing.T) {
	dir := writeTestBundle(t)
	n, err := Verify(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(ReportFiles)+3 {
		t.Fatalf("verified %d files", n)
	}
	for _, format := range report.Formats {
		if fi, err := os.Stat(filepath.Join(dir, ReportFiles[format])); err != nil || fi.Size() == 0 {
			t.Errorf("report in %s: %v", format, err)
		}
	}
	if _, err := exec.LookPath("sha256sum"); err == nil {
		cmd := exec.Command("sha256sum", "-c", "--strict", ManifestFile)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sha256sum -c: %v\n%s", err, out)
		}
	}
	if _, err := Write(dir, Bundle{}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("writing over a bundle: %v", err)
	}
}

func TestVerifyNamesTheFirstBadFile(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(dir string) error
		file   string
		kind   string
	}{
		{"modified", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "report.json"), []byte("{}"), 0o600)
		}, "report.json", "modified"},
		{"missing", func(dir string) error { return os.Remove(filepath.Join(dir, IdentityFile)) }, IdentityFile, "missing"},
		{"extra", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600)
		}, "notes.txt", "extra"},
		{"extra in a subdirectory", func(dir string) error {
			if err := os.Mkdir(filepath.Join(dir, "a"), 0o700); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, "a", "b"), nil, 0o600)
		}, "a/b", "extra"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeTestBundle(t)
			if err := tc.tamper(dir); err != nil {
				t.Fatal(err)
			}
			_, err := Verify(dir)
			var p *Problem
			if !errors.As(err, &p) || p.File != tc.file || p.Kind != tc.kind {
				t.Fatalf("Verify = %v, want %s %s", err, tc.file, tc.kind)
			}
		})
	}
}

func TestVerifyRejectsABadManifest(t *testing.T) {
	for name, manifest := range map[string]string{
		"empty":      "",
		"not hex":    strings.Repeat("z", 64) + "  report.json\n",
		"escape":     strings.Repeat("a", 64) + "  ../etc/passwd\n",
		"absolute":   strings.Repeat("a", 64) + "  /etc/passwd\n",
		"one space":  strings.Repeat("a", 64) + " report.json\n",
		"duplicated": strings.Repeat("a", 64) + "  x\n" + strings.Repeat("b", 64) + "  x\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, ManifestFile), []byte(manifest), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Verify(dir); err == nil || !strings.Contains(err.Error(), ManifestFile) {
				t.Fatalf("Verify = %v, want a manifest error", err)
			}
		})
	}
}

// TestEstateCarriesNoSecrets: names, labels and images only; no Secret, ConfigMap or
// environment values reach the bundle.
func TestEstateCarriesNoSecrets(t *testing.T) {
	dir := writeTestBundle(t)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "hunter2") {
			t.Errorf("%s carries a secret value", e.Name())
		}
	}
	est := EstateOf(testInventory())
	if len(est.Secrets) != 1 || est.Secrets[0].Name != "payment-db" {
		t.Fatalf("secrets %+v", est.Secrets)
	}
	if len(est.Workloads) != 1 || len(est.Workloads[0].Images) != 2 || *est.Workloads[0].Replicas != 2 {
		t.Fatalf("workloads %+v", est.Workloads)
	}
	if len(est.Images) != 3 || est.Images[0].Image != "docker.io/library/busybox:latest" || est.Images[0].Users[0] != "Pod/fintech-prod/debug" {
		t.Fatalf("images %+v", est.Images)
	}
	if est.Namespaces[0].Labels["pci-scope"] != "true" {
		t.Fatalf("namespaces %+v", est.Namespaces)
	}
}
