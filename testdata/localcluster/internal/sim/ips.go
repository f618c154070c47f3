package sim

import (
	"fmt"
	"hash/fnv"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// ipPool hands out pod IPs from 10.<100+cluster>.0.0/16, starting from a hash
// of the pod UID and probing past addresses in use, so IPs stay unique across
// restarts of the simulator (in-use addresses are learnt from the informer).
type ipPool struct {
	mu     sync.Mutex
	prefix string
	used   map[string]types.UID
	byUID  map[types.UID]string
}

func newIPPool(index int) *ipPool {
	return &ipPool{prefix: fmt.Sprintf("10.%d.", 100+index), used: map[string]types.UID{}, byUID: map[types.UID]string{}}
}

// observe records the IP a pod holds, or frees it when the pod is gone.
func (p *ipPool) observe(pod *corev1.Pod, gone bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ip, ok := p.byUID[pod.UID]; ok && (gone || ip != pod.Status.PodIP) {
		delete(p.used, ip)
		delete(p.byUID, pod.UID)
	}
	if !gone && pod.Status.PodIP != "" {
		p.used[pod.Status.PodIP] = pod.UID
		p.byUID[pod.UID] = pod.Status.PodIP
	}
}

// allocate returns the pod's IP, reserving a new one if it has none.
func (p *ipPool) allocate(pod *corev1.Pod) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ip, ok := p.byUID[pod.UID]; ok {
		return ip
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(pod.UID))
	start := h.Sum32() % 65024
	for i := uint32(0); i < 65024; i++ {
		n := (start + i) % 65024
		ip := fmt.Sprintf("%s%d.%d", p.prefix, n/254, 1+n%254)
		if _, taken := p.used[ip]; !taken {
			p.used[ip] = pod.UID
			p.byUID[pod.UID] = ip
			return ip
		}
	}
	return p.prefix + "255.255"
}
