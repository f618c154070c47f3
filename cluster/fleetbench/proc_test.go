package fleetbench

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-k8s/vigil/internal/benchdoc"
)

// heap is the live Go heap after two collections.
func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// heapMedian is the median of five heap readings 300 ms apart: a session
// rebuilding its snapshot holds a transient copy now and then.
func heapMedian() uint64 {
	var hs []uint64
	for i := range 5 {
		if i > 0 {
			time.Sleep(300 * time.Millisecond)
		}
		hs = append(hs, heap())
	}
	slices.Sort(hs)
	return hs[len(hs)/2]
}

func median(ds []time.Duration) time.Duration {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

var msList = benchdoc.Millis

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

var loadAverage = benchdoc.LoadAverage

// vmRSS is a process's resident set in bytes from /proc/PID/status
// ("self" for this one); 0 when it cannot be read.
func vmRSS(pid string) uint64 {
	b, err := os.ReadFile(filepath.Join("/proc", pid, "status"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v) // "123456 kB"
			if len(f) == 2 && f[1] == "kB" {
				n, _ := strconv.ParseUint(f[0], 10, 64)
				return n << 10
			}
		}
	}
	return 0
}

// localclusterTree returns the pids of the localcluster process running on
// state directory dir (its command line carries `--dir DIR`) and of all its
// descendants; none when no such process runs.
func localclusterTree(dir string) []string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	parent := map[string]string{}
	root := ""
	want := []byte("--dir\x00" + dir + "\x00")
	for _, e := range entries {
		pid := e.Name()
		if _, nErr := strconv.Atoi(pid); nErr != nil {
			continue
		}
		if f := statFields(pid); len(f) > 1 {
			parent[pid] = f[1]
		}
		cmdline, cmdErr := os.ReadFile(filepath.Join("/proc", pid, "cmdline"))
		if cmdErr != nil {
			continue
		}
		argv0, _, _ := bytes.Cut(cmdline, []byte{0})
		if filepath.Base(string(argv0)) == "localcluster" && bytes.Contains(append(cmdline, 0), want) {
			root = pid
		}
	}
	if root == "" {
		return nil
	}
	var tree []string
	for pid := range parent {
		for p := pid; p != "" && p != "0"; p = parent[p] {
			if p == root {
				tree = append(tree, pid)
				break
			}
		}
	}
	return tree
}

// statFields are the fields of /proc/PID/stat after "pid (comm)": state,
// ppid, …; comm may hold spaces and parentheses.
func statFields(pid string) []string {
	stat, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(stat[i+1:]))
}

// localclusterRSS sums the resident sets of localcluster's process tree
// on dir, and says how many processes it counted.
func localclusterRSS(dir string) (rss uint64, procs int) {
	tree := localclusterTree(dir)
	for _, pid := range tree {
		rss += vmRSS(pid)
	}
	return rss, len(tree)
}

// clockTick is the kernel's USER_HZ, the unit of /proc/PID/stat's times
// (100 on Linux/amd64).
const clockTick = 10 * time.Millisecond

// treeCPU sums the user and system CPU time used so far by the processes
// of pids.
func treeCPU(pids []string) time.Duration {
	var ticks uint64
	for _, pid := range pids {
		if f := statFields(pid); len(f) > 12 {
			u, _ := strconv.ParseUint(f[11], 10, 64)
			st, _ := strconv.ParseUint(f[12], 10, 64)
			ticks += u + st
		}
	}
	return time.Duration(ticks) * clockTick
}

// sockets counts this process's open sockets (its TCP connections, to the
// API servers among them) from /proc/self/fd.
func sockets() int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	n := 0
	for _, e := range entries {
		if target, lErr := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); lErr == nil && strings.HasPrefix(target, "socket:") {
			n++
		}
	}
	return n
}
