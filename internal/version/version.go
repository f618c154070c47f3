// Package version tells which vigil build is running.
//
// Release builds set Version with
//
//	go build -ldflags "-X github.com/vigil-k8s/vigil/internal/version.Version=v1.2.3"
//
// Other builds fall back to the module version recorded by the Go toolchain
// (go install ...@v1.2.3), then to the VCS revision, then to "dev".
package version

import (
	"runtime/debug"
	"sync"
)

// Version is the build's version; empty unless set by -ldflags -X.
var Version string

var (
	once     sync.Once
	resolved string
)

// String returns the version of the running binary, never empty.
func String() string {
	once.Do(func() { resolved = resolve(Version, debug.ReadBuildInfo) })
	return resolved
}

// UserAgent is the User-Agent vigil sends to API servers, "vigil/<version>",
// so audit logs name the tool that made a request.
func UserAgent() string { return "vigil/" + String() }

// resolve picks the version from the linker flag, then build info.
func resolve(ldflag string, read func() (*debug.BuildInfo, bool)) string {
	if ldflag != "" {
		return ldflag
	}
	info, ok := read()
	if !ok {
		return "dev"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		return "dev-" + rev + dirty
	}
	return "dev"
}
