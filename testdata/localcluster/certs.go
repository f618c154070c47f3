package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/vigil-k8s/vigil/testdata/localcluster/internal/kubelet"
)

// certValidity is long on purpose: a test DIR may be resumed months later.
const certValidity = 10 * 365 * 24 * time.Hour

// pki holds the file names of every certificate and key one cluster needs.
// All files live in DIR/local-N/pki and are created once, then reused on
// restart so kubeconfigs handed out earlier stay valid.
type pki struct {
	dir string
}

func (p pki) path(name string) string { return filepath.Join(p.dir, name) }

// CA returns the cluster CA certificate file (signs serving and client certs).
func (p pki) CA() string { return p.path("ca.crt") }

// FrontProxyCA returns the CA file that verifies the aggregator's proxy client.
func (p pki) FrontProxyCA() string { return p.path("front-proxy-ca.crt") }

// ensurePKI creates the certificates and keys of one cluster that do not
// exist yet; existing ones are kept so kubeconfigs handed out stay valid.
// nodeIPs are the addresses the kubelets' serving certificate is for.
func ensurePKI(dir string, nodeIPs []net.IP) (pki, error) {
	p := pki{dir: dir}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return p, fmt.Errorf("create pki dir: %w", err)
	}
	ca, caKey, err := p.ensureCA("ca", "localcluster-ca")
	if err != nil {
		return p, err
	}
	fpCA, fpKey, err := p.ensureCA("front-proxy-ca", "localcluster-front-proxy-ca")
	if err != nil {
		return p, err
	}
	client := func(cn string, groups ...string) x509.Certificate {
		return x509.Certificate{
			Subject:     pkix.Name{CommonName: cn, Organization: groups},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}
	}
	leaves := []struct {
		file   string
		signer *x509.Certificate
		key    crypto.Signer
		tmpl   x509.Certificate
	}{
		{"serving", ca, caKey, x509.Certificate{
			Subject:     pkix.Name{CommonName: "kube-apiserver"},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.96.0.1")},
		}},
		// admin and reviewer are for people and tests (the kubeconfig);
		// the harness and the controller manager have their own users so
		// audit.log tells their requests apart.
		{"admin", ca, caKey, client("admin", "system:masters")},
		{"reviewer", ca, caKey, client("reviewer")},
		{"localcluster", ca, caKey, client("localcluster", "system:masters")},
		{"controller-manager", ca, caKey, client("system:kube-controller-manager", "system:masters")},
		{"front-proxy-client", fpCA, fpKey, client("front-proxy-client")},
		// The kubelets (one log server for all simulated nodes) serve
		// with kubelet-serving and answer only kubelet-client, the
		// apiserver's --kubelet-client-certificate.
		{"kubelet-serving", ca, caKey, x509.Certificate{
			Subject:     pkix.Name{CommonName: "localcluster-kubelet"},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			IPAddresses: nodeIPs,
		}},
		{"kubelet-client", ca, caKey, client(kubelet.ClientName)},
	}
	for _, l := range leaves {
		if exists(p.path(l.file + ".crt")) {
			continue
		}
		crt, key, leafErr := newLeaf(l.tmpl, l.signer, l.key)
		if leafErr != nil {
			return p, fmt.Errorf("issue %s certificate: %w", l.file, leafErr)
		}
		if err = writePair(p.path(l.file), crt, key); err != nil {
			return p, err
		}
	}
	if exists(p.path("sa.pub")) {
		return p, nil
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return p, fmt.Errorf("generate service-account key: %w", err)
	}
	if err = writeKey(p.path("sa.key"), saKey); err != nil {
		return p, err
	}
	pub, err := x509.MarshalPKIXPublicKey(saKey.Public())
	if err != nil {
		return p, fmt.Errorf("marshal service-account public key: %w", err)
	}
	return p, writePEM(p.path("sa.pub"), "PUBLIC KEY", pub)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// ensureCA loads base.crt/base.key, creating them first if missing.
func (p pki) ensureCA(base, cn string) (*x509.Certificate, crypto.Signer, error) {
	if !exists(p.path(base + ".crt")) {
		crt, key, err := newCA(cn)
		if err != nil {
			return nil, nil, err
		}
		if err := writePair(p.path(base), crt, key); err != nil {
			return nil, nil, err
		}
		return crt, key, nil
	}
	pair, err := tls.LoadX509KeyPair(p.path(base+".crt"), p.path(base+".key"))
	if err != nil {
		return nil, nil, fmt.Errorf("load %s: %w", base, err)
	}
	crt, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, nil, fmt.Errorf("parse %s: %w", base, err)
	}
	key, ok := pair.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, nil, errors.New(base + ": key cannot sign")
	}
	return crt, key, nil
}

func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
}

func newCA(cn string) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate %s key: %w", cn, err)
	}
	sn, err := serial()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(certValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("self-sign %s: %w", cn, err)
	}
	crt, err := x509.ParseCertificate(der)
	return crt, key, err
}

func newLeaf(tmpl x509.Certificate, ca *x509.Certificate, caKey crypto.Signer) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, nil, err
	}
	tmpl.SerialNumber = sn
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(certValidity)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, ca, key.Public(), caKey)
	if err != nil {
		return nil, nil, err
	}
	crt, err := x509.ParseCertificate(der)
	return crt, key, err
}

// writePair writes base.crt and base.key.
func writePair(base string, crt *x509.Certificate, key crypto.Signer) error {
	if err := writePEM(base+".crt", "CERTIFICATE", crt.Raw); err != nil {
		return err
	}
	return writeKey(base+".key", key)
}

func writeKey(path string, key crypto.Signer) error {
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return errors.New("only ECDSA keys are generated here")
	}
	der, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		return fmt.Errorf("marshal key %s: %w", path, err)
	}
	return writePEM(path, "EC PRIVATE KEY", der)
}

func writePEM(path, typ string, der []byte) error {
	data := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
