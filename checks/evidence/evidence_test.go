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
		// The bypass: a file removed together with its manifest line.
		{"audit log and its manifest line deleted", func(dir string) error { return dropFile(dir, AuditLogFile) }, AuditLogFile, "missing"},
		{"identity and its manifest line deleted", func(dir string) error { return dropFile(dir, IdentityFile) }, IdentityFile, "missing"},
		{"a report and its manifest line deleted", func(dir string) error { return dropFile(dir, "report.sarif") }, "report.sarif", "missing"},
		{"audit log replaced by a symbolic link", func(dir string) error {
			other := filepath.Join(t.TempDir(), "other.jsonl")
			if err := os.WriteFile(other, []byte(`{"seq":1}`+"\n"), 0o600); err != nil {
				return err
			}
			if err := os.Remove(filepath.Join(dir, AuditLogFile)); err != nil {
				return err
			}
			return os.Symlink(other, filepath.Join(dir, AuditLogFile))
		}, AuditLogFile, "extra"},
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

// TestVerifyAcceptsABundleFromBeforeTheHTMLReport: a bundle written before report.html
// existed (neither the file nor its manifest line) verifies; one whose manifest lists it
// while the file is gone does not.
func TestVerifyAcceptsABundleFromBeforeTheHTMLReport(t *testing.T) {
	dir := writeTestBundle(t)
	if err := dropFile(dir, "report.html"); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(dir); err != nil {
		t.Fatalf("a bundle without report.html: %v", err)
	}
	dir = writeTestBundle(t)
	if err := os.Remove(filepath.Join(dir, "report.html")); err != nil {
		t.Fatal(err)
	}
	var p *Problem
	if _, err := Verify(dir); !errors.As(err, &p) || p.File != "report.html" || p.Kind != "missing" {
		t.Fatalf("report.html listed but gone: %v", err)
	}
}

// dropFile removes name from a bundle and its line from the manifest, leaving every other
// hash intact.
func dropFile(dir, name string) error {
	if err := os.Remove(filepath.Join(dir, name)); err != nil {
		return err
	}
	raw, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return err
	}
	var kept []string
	for _, line := range strings.SplitAfter(string(raw), "\n") {
		if !strings.HasSuffix(strings.TrimSuffix(line, "\n"), "  "+name) {
			kept = append(kept, line)
		}
	}
	if len(kept) == len(strings.SplitAfter(string(raw), "\n")) {
		return errors.New("the manifest does not list " + name)
	}
	return os.WriteFile(filepath.Join(dir, ManifestFile), []byte(strings.Join(kept, "")), 0o600)
}

// TestReadAuditLogRefusesSymlinks: the log copied into a bundle is never read through a link.
func TestReadAuditLogRefusesSymlinks(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "real")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(real, "audit.jsonl"), []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, filepath.Join(base, "state")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(real, "audit.jsonl"), filepath.Join(real, "link.jsonl")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(base, "state", "audit.jsonl"), filepath.Join(real, "link.jsonl")} {
		if b, err := ReadAuditLog(p); err == nil || !strings.Contains(err.Error(), "symbolic link") {
			t.Errorf("ReadAuditLog(%s) = %q, %v; want a refusal", p, b, err)
		}
	}
	if b, err := ReadAuditLog(filepath.Join(real, "audit.jsonl")); err != nil || string(b) != "x\n" {
		t.Errorf("the control: ReadAuditLog of the real file = %q, %v", b, err)
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
