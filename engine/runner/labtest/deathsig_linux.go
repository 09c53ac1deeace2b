//go:build linux

package labtest

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the supervisor get SIGTERM when the test binary dies
// (killed, interrupted or timed out), so no control plane outlives it.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
