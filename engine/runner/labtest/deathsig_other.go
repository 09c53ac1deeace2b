//go:build !linux

package labtest

import "os/exec"

// dieWithParent does nothing where there is no parent-death signal: a
// killed test binary leaves its cluster to `ckslab cluster down`.
func dieWithParent(*exec.Cmd) {}
