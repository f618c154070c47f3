package sim

import (
	"context"
	"fmt"
	"strconv"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NodeCount is how many nodes each simulated cluster has.
const NodeCount = 3

// heartbeatEvery is how often node conditions are refreshed. No node
// lifecycle controller runs, so this only keeps lastHeartbeatTime plausible.
const heartbeatEvery = 40 * time.Second

// NodeName returns the name of node i (1-based) of the cluster.
func NodeName(cluster string, i int) string { return cluster + "-node-" + strconv.Itoa(i) }

// NodeIP returns the InternalIP of node i of cluster number index. Nothing
// listens there: the apiserver reaches the kubelets' port (KubeletPort)
// through the dialer of the simulated network (see localcluster's
// apiserver.go).
func NodeIP(index, i int) string { return fmt.Sprintf("172.18.%d.%d", index, 10+i) }

// KubeletPort is the kubelet port every node reports in its status.
const KubeletPort = 10250

// desiredNode returns node i as it should exist: labels, taints, capacity.
func (s *Simulator) desiredNode(i int) *corev1.Node {
	name := NodeName(s.cfg.Cluster, i)
	zones := []string{"a", "b", "c"}
	labels := map[string]string{
		"kubernetes.io/hostname":           name,
		"kubernetes.io/os":                 "linux",
		"kubernetes.io/arch":               "amd64",
		"node.kubernetes.io/instance-type": "sim.4xlarge",
		"topology.kubernetes.io/region":    "local",
		"topology.kubernetes.io/zone":      "local-" + zones[(i-1)%len(zones)],
	}
	var taints []corev1.Taint
	if i == 3 {
		labels["node-type"] = "compute-optimized"
		labels["compliance"] = "pci-dss"
		taints = []corev1.Taint{{Key: "fintech.com/pci-dss", Value: "true", Effect: corev1.TaintEffectNoSchedule}}
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: corev1.NodeSpec{
			PodCIDR:    fmt.Sprintf("10.%d.%d.0/24", 100+s.cfg.Index, i),
			PodCIDRs:   []string{fmt.Sprintf("10.%d.%d.0/24", 100+s.cfg.Index, i)},
			ProviderID: "sim://" + name,
			Taints:     taints,
		},
	}
}

// nodeStatus is the status every simulated node reports.
func (s *Simulator) nodeStatus(i int, now metav1.Time, old *corev1.NodeStatus) corev1.NodeStatus {
	// 16 cores and 64 GiB, and for every pod of room past 500 (--scale-pods)
	// what a bulk pod requests (1m, 4 MiB): 30,000 bulk pods, 15,000 a
	// node, would not fit in 64 GiB.
	extra := int64(max(0, s.cfg.PodsPerNode-500))
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              *resource.NewMilliQuantity(16000+extra, resource.DecimalSI),
		corev1.ResourceMemory:           *resource.NewQuantity(64<<30+extra*4<<20, resource.BinarySI),
		corev1.ResourcePods:             *resource.NewQuantity(int64(s.cfg.PodsPerNode), resource.DecimalSI),
		corev1.ResourceEphemeralStorage: resource.MustParse("200Gi"),
	}
	cond := func(t corev1.NodeConditionType, st corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
		transition := now
		if old != nil {
			for _, c := range old.Conditions {
				if c.Type == t && c.Status == st {
					transition = c.LastTransitionTime
				}
			}
		}
		return corev1.NodeCondition{Type: t, Status: st, Reason: reason, Message: msg, LastHeartbeatTime: now, LastTransitionTime: transition}
	}
	return corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity,
		Phase:       corev1.NodeRunning,
		Conditions: []corev1.NodeCondition{
			cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
			cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
			cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
			cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status"),
		},
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: NodeIP(s.cfg.Index, i)},
			{Type: corev1.NodeHostName, Address: NodeName(s.cfg.Cluster, i)},
		},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: KubeletPort}},
		NodeInfo: corev1.NodeSystemInfo{
			MachineID:               "sim-" + NodeName(s.cfg.Cluster, i),
			SystemUUID:              "sim-" + NodeName(s.cfg.Cluster, i),
			BootID:                  "sim-boot",
			KernelVersion:           "6.12.0-sim",
			OSImage:                 "Debian GNU/Linux 13 (trixie)",
			ContainerRuntimeVersion: "containerd://2.1.4",
			KubeletVersion:          s.cfg.KubeletVersion,
			OperatingSystem:         "linux",
			Architecture:            "amd64",
		},
	}
}

// syncNodes creates missing nodes and refreshes the status of all of them.
func (s *Simulator) syncNodes(ctx context.Context) error {
	now := metav1.Now()
	for i := 1; i <= NodeCount; i++ {
		want := s.desiredNode(i)
		node, err := s.cfg.Client.CoreV1().Nodes().Get(ctx, want.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			node, err = s.cfg.Client.CoreV1().Nodes().Create(ctx, want, metav1.CreateOptions{})
		}
		if err != nil {
			return fmt.Errorf("node %s: %w", want.Name, err)
		}
		node.Status = s.nodeStatus(i, now, &node.Status)
		if node, err = s.cfg.Client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("node %s status: %w", want.Name, err)
		}
		// The TaintNodesByCondition admission plugin taints new nodes
		// not-ready; the node lifecycle controller (not run here) would
		// lift it once the node reports Ready.
		taints := node.Spec.Taints[:0:0]
		for _, t := range node.Spec.Taints {
			if t.Key != corev1.TaintNodeNotReady && t.Key != corev1.TaintNodeUnreachable {
				taints = append(taints, t)
			}
		}
		if len(taints) != len(node.Spec.Taints) {
			node.Spec.Taints = taints
			if _, err := s.cfg.Client.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{}); err != nil {
				return fmt.Errorf("node %s taints: %w", want.Name, err)
			}
		}
	}
	return nil
}

// leaseEvery is how often node leases in kube-node-lease are renewed, as
// the kubelet does.
const leaseEvery = 10 * time.Second

// heartbeat keeps the nodes present and Ready, and their leases fresh,
// until ctx ends.
func (s *Simulator) heartbeat(ctx context.Context) {
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	l := time.NewTicker(leaseEvery)
	defer l.Stop()
	s.renewLeases(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.syncNodes(ctx); err != nil && ctx.Err() == nil {
				s.cfg.Logf("%s: node heartbeat: %v", s.cfg.Cluster, err)
			}
		case <-l.C:
			s.renewLeases(ctx)
		}
	}
}

// renewLeases creates or renews each node's Lease.
func (s *Simulator) renewLeases(ctx context.Context) {
	leases := s.cfg.Client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	now := metav1.NewMicroTime(time.Now())
	for i := 1; i <= NodeCount; i++ {
		name := NodeName(s.cfg.Cluster, i)
		lease, err := leases.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			node, nerr := s.nodes.Get(name)
			if nerr != nil {
				continue
			}
			holder, duration := name, int32(40)
			lease = &coordinationv1.Lease{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: corev1.NamespaceNodeLease,
					OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: name, UID: node.UID}}},
				Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &duration, RenewTime: &now},
			}
			_, err = leases.Create(ctx, lease, metav1.CreateOptions{})
		} else if err == nil {
			lease.Spec.RenewTime = &now
			_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
		}
		if err != nil && ctx.Err() == nil && !apierrors.IsConflict(err) {
			s.cfg.Logf("%s: lease of %s: %v", s.cfg.Cluster, name, err)
		}
	}
}
