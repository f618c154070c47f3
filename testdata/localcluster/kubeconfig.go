package main

import (
	"fmt"
	"os"
	"strconv"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// credential is one user of a cluster: its context name and its client
// certificate files (base.crt/base.key in the cluster's pki).
type credential struct {
	context string
	user    string
	base    string
}

func credentialsOf(name string) []credential {
	return []credential{
		{context: name, user: name + "-admin", base: "admin"},
		{context: name + "-reviewer", user: name + "-reviewer", base: "reviewer"},
	}
}

// addCluster adds cluster c (served at port) with its admin and reviewer
// contexts to cfg, with every certificate embedded.
func addCluster(cfg *clientcmdapi.Config, c *clusterSpec, port int) error {
	ca, err := os.ReadFile(c.pki.CA())
	if err != nil {
		return fmt.Errorf("read CA of %s: %w", c.name, err)
	}
	cl := clientcmdapi.NewCluster()
	cl.Server = "https://127.0.0.1:" + strconv.Itoa(port)
	cl.CertificateAuthorityData = ca
	cfg.Clusters[c.name] = cl
	for _, cr := range credentialsOf(c.name) {
		crt, err := os.ReadFile(c.pki.path(cr.base + ".crt"))
		if err != nil {
			return fmt.Errorf("read %s certificate: %w", cr.user, err)
		}
		key, err := os.ReadFile(c.pki.path(cr.base + ".key"))
		if err != nil {
			return fmt.Errorf("read %s key: %w", cr.user, err)
		}
		u := clientcmdapi.NewAuthInfo()
		u.ClientCertificateData = crt
		u.ClientKeyData = key
		cfg.AuthInfos[cr.user] = u
		ctx := clientcmdapi.NewContext()
		ctx.Cluster = c.name
		ctx.AuthInfo = cr.user
		ctx.Namespace = "default"
		cfg.Contexts[cr.context] = ctx
	}
	return nil
}

// writeKubeconfig writes cfg to path atomically.
func writeKubeconfig(path string, cfg *clientcmdapi.Config) error {
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return fmt.Errorf("encode kubeconfig: %w", err)
	}
	return writeFileAtomic(path, data, 0o600)
}

// componentConfig writes a kubeconfig for one of the cluster's own
// components, authenticated with the base.crt/base.key client certificate,
// and returns the matching REST config.
func componentConfig(path string, c *clusterSpec, port int, base string) (*rest.Config, error) {
	ca, err := os.ReadFile(c.pki.CA())
	if err != nil {
		return nil, fmt.Errorf("read CA of %s: %w", c.name, err)
	}
	crt, err := os.ReadFile(c.pki.path(base + ".crt"))
	if err != nil {
		return nil, err
	}
	key, err := os.ReadFile(c.pki.path(base + ".key"))
	if err != nil {
		return nil, err
	}
	cfg := clientcmdapi.NewConfig()
	cl := clientcmdapi.NewCluster()
	cl.Server = "https://127.0.0.1:" + strconv.Itoa(port)
	cl.CertificateAuthorityData = ca
	cfg.Clusters[c.name] = cl
	u := clientcmdapi.NewAuthInfo()
	u.ClientCertificateData, u.ClientKeyData = crt, key
	cfg.AuthInfos[base] = u
	ctx := clientcmdapi.NewContext()
	ctx.Cluster, ctx.AuthInfo = c.name, base
	cfg.Contexts[base] = ctx
	cfg.CurrentContext = base
	if err = writeKubeconfig(path, cfg); err != nil {
		return nil, err
	}
	rc, err := clientcmd.NewDefaultClientConfig(*cfg, nil).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("REST config for %s of %s: %w", base, c.name, err)
	}
	return rc, nil
}
