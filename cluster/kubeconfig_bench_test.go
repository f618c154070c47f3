package cluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/tools/clientcmd"
)

// BenchmarkResolveEveryContext resolves each context of an n-context kubeconfig (a
// cluster and a client certificate of its own per context, as cloud kubeconfigs have) the
// way check --all-contexts does: FlagsFor then ResolveConnection twice (the LISTs and the
// attestations). The floor of the same run is one parse of the file per context
// (clientcmd.LoadFromFile); "parses/context" is the ratio. Each resolution of a context
// parses the whole file, so the cost of all contexts grows as n² whatever the ratio: the
// ratio says by how much more than once. Beside it, what check --all-contexts and the
// Contexts screen's passes do now: a ContextResolver, one parse, each context resolved once.
func BenchmarkResolveEveryContext(b *testing.B) {
	for _, n := range []int{16, 200} {
		b.Run(fmt.Sprintf("contexts=%d", n), func(b *testing.B) {
			path, names := manyContextsKubeconfig(b, n)
			kubeconfig := path
			root := genericclioptions.NewConfigFlags(true)
			root.KubeConfig = &kubeconfig
			t0 := time.Now()
			for range n {
				if _, err := clientcmd.LoadFromFile(path); err != nil {
					b.Fatal(err)
				}
			}
			floor := time.Since(t0)
			var each, shared time.Duration
			for b.Loop() {
				t1 := time.Now()
				for _, name := range names {
					f := FlagsFor(root, name)
					for range 2 {
						if _, err := ResolveConnection(f, "vigil/bench"); err != nil {
							b.Fatal(err)
						}
					}
				}
				each = time.Since(t1)
				t2 := time.Now()
				r := NewContextResolver(root, "vigil/bench")
				for _, name := range names {
					if _, err := r.Resolve(name); err != nil {
						b.Fatal(err)
					}
				}
				shared = time.Since(t2)
			}
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			b.ReportMetric(ms(each), "ms/all-contexts")
			b.ReportMetric(ms(shared), "ms/all-contexts-resolver")
			b.ReportMetric(each.Seconds()/floor.Seconds(), "parses/context")
			fmt.Printf("  resolving %d contexts: each afresh %.1f ms (%.2f× one parse per context, %.1f ms); from one parse (ContextResolver) %.1f ms\n",
				n, ms(each), each.Seconds()/floor.Seconds(), ms(floor), ms(shared))
		})
	}
}

// manyContextsKubeconfig writes a kubeconfig of n contexts, each with its own cluster (CA
// data) and user (client certificate and key data), and returns its path and the names.
func manyContextsKubeconfig(tb testing.TB, n int) (string, []string) {
	certPEM, keyPEM := selfSignedPEM(tb, "bench")
	cert, pk := base64.StdEncoding.EncodeToString(certPEM), base64.StdEncoding.EncodeToString(keyPEM)
	var sb strings.Builder
	var names []string
	sb.WriteString("apiVersion: v1\nkind: Config\nclusters:\n")
	for i := range n {
		fmt.Fprintf(&sb, "- name: c%d\n  cluster:\n    server: https://10.0.%d.%d:6443\n    certificate-authority-data: %s\n", i, i/250, i%250+1, cert)
	}
	sb.WriteString("users:\n")
	for i := range n {
		fmt.Fprintf(&sb, "- name: u%d\n  user:\n    client-certificate-data: %s\n    client-key-data: %s\n", i, cert, pk)
	}
	sb.WriteString("contexts:\n")
	for i := range n {
		name := fmt.Sprintf("cluster-%03d", i)
		names = append(names, name)
		fmt.Fprintf(&sb, "- name: %s\n  context: {cluster: c%d, user: u%d}\n", name, i, i)
	}
	fmt.Fprintf(&sb, "current-context: %s\n", names[0])
	path := filepath.Join(tb.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path, names
}

// selfSignedPEM returns a self-signed CA certificate (ECDSA P-256, valid an hour either side
// of now) and its key, PEM-encoded.
func selfSignedPEM(tb testing.TB, cn string) (cert, key []byte) {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}
