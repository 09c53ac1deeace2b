//go:build linux

package local

import "syscall"

// supervisorAttr starts the supervisor in its own session (Ctrl-C in the
// learner's terminal must not reach it, and it outlives the command that
// started it), keeping a parent-death signal the command asked for (test
// clusters die with their test binary).
func supervisorAttr(asked *syscall.SysProcAttr) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setsid: true}
	if asked != nil {
		attr.Pdeathsig = asked.Pdeathsig
	}
	return attr
}

// componentAttr gives a component its own process group, so a stop
// reaches any helper it forks, and kills it with the supervisor even when
// the supervisor is SIGKILLed.
func componentAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
