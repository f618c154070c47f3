// Command vigil is a terminal cockpit for the people who keep fintech
// workloads on Kubernetes alive and compliant.
package main

import (
	"context"
	"os"

	"github.com/vigil-k8s/vigil/cmd"
)

func main() {
	os.Exit(cmd.Execute(context.Background()))
}
