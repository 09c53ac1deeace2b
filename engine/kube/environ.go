package kube

import (
	"os"
	"strings"
)

// LabEnviron is the process environment with KUBECONFIG pointing at the lab
// kubeconfig only (for kubectl and other clients run as subprocesses).
func LabEnviron(kubeconfig string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KUBECONFIG=") {
			out = append(out, kv)
		}
	}
	return append(out, "KUBECONFIG="+kubeconfig)
}
