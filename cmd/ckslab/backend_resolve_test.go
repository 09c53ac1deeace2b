package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckslab/ckslab/engine/runner"
)

// Every verb, not only the runner's, talks to the running lab's cluster with
// --backend auto. Before, `cluster status`, `ssh` and `env` resolved auto
// afresh: with Docker answering they looked for a kind cluster while the lab
// ran on the local backend.
func TestEveryVerbFollowsTheLabsBackend(t *testing.T) {
	e := isolate(t)
	writeLab(t, e, runner.LabState{Scenario: "psp-01", Cluster: "ckslab", Backend: "local",
		Kubeconfig: filepath.Join(e.root, "kubeconfig"), SetupDone: true})
	for _, args := range [][]string{{"cluster", "status"}, {"ssh", "controlplane", "true"}, {"cluster", "down"}} {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			r := runCLI(t, args...)
			if !strings.Contains(r.stderr, "backend local (the running lab's backend)") {
				t.Fatalf("%v did not use the lab's backend:\nstdout: %s\nstderr: %s", args, r.stdout, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, "kind") {
				t.Fatalf("%v talked to kind:\nstdout: %s\nstderr: %s", args, r.stdout, r.stderr)
			}
		})
	}
	// A lab of another cluster name does not decide for this one.
	r := runCLI(t, "cluster", "status", "--cluster", "other")
	if strings.Contains(r.stderr, "the running lab's backend") {
		t.Fatalf("lab of cluster ckslab decided the backend of cluster other: %s", r.stderr)
	}
}
