//go:build !linux

package local

import "syscall"

// supervisorAttr starts the supervisor in its own session. Parent-death
// signals exist only on Linux: elsewhere a test cluster outlives a killed
// test binary until `ckslab cluster down`.
func supervisorAttr(*syscall.SysProcAttr) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true}
}

// componentAttr gives a component its own process group, so a stop
// reaches any helper it forks (without Linux's parent-death signal, a
// SIGKILLed supervisor leaves its components to `ckslab cluster down`).
func componentAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
