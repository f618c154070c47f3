package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strconv"

	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apiserver/pkg/server/egressselector"

	"github.com/vigil-k8s/vigil/testdata/localcluster/internal/sim"
)

// kubeletTLS is the kubelets' serving side: the kubelet-serving certificate
// (for the node IPs) and only client certificates the cluster CA signed;
// the handler then admits the apiserver's kubelet client alone.
func (c *clusterSpec) kubeletTLS() (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(c.pki.path("kubelet-serving.crt"), c.pki.path("kubelet-serving.key"))
	if err != nil {
		return nil, fmt.Errorf("%s: kubelet serving certificate: %w", c.name, err)
	}
	caPEM, err := os.ReadFile(c.pki.CA())
	if err != nil {
		return nil, fmt.Errorf("%s: read CA: %w", c.name, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("%s: no certificate in %s", c.name, c.pki.CA())
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		MinVersion:   tls.VersionTLS12,
	}, nil
}

// kubeletFlags point the apiserver at the kubelets: it authenticates with
// the kubelet-client certificate, verifies the kubelets' certificate with
// the cluster CA, and dials the nodes' InternalIP at the port their status
// reports.
func (c *clusterSpec) kubeletFlags() []string {
	return []string{
		"--kubelet-client-certificate=" + c.pki.path("kubelet-client.crt"),
		"--kubelet-client-key=" + c.pki.path("kubelet-client.key"),
		"--kubelet-certificate-authority=" + c.pki.CA(),
		"--kubelet-preferred-address-types=InternalIP",
	}
}

// kubeletDialer is the simulated network between the apiserver and its
// nodes: a connection to any node's InternalIP at the kubelet port reaches
// the one log server of the cluster; every other address is unreachable,
// as the simulated node IPs are nowhere on this machine.
func (c *clusterSpec) kubeletDialer() egressselector.Lookup {
	nodes := map[string]bool{}
	for i := 1; i <= sim.NodeCount; i++ {
		nodes[net.JoinHostPort(sim.NodeIP(c.index, i), strconv.Itoa(sim.KubeletPort))] = true
	}
	var d net.Dialer
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if !nodes[addr] {
			return nil, fmt.Errorf("dial %s %s: no route to host (not a node of %s)", network, addr, c.name)
		}
		return d.DialContext(ctx, network, c.kubeletAddr)
	}
	return func(egressselector.NetworkContext) (utilnet.DialFunc, error) { return dial, nil }
}
