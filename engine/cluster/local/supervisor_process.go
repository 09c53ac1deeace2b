package local

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// command builds the component's process and returns the arguments its
// binary gets. In the node's mount namespace the binary is run by its
// manifest name through PATH and keeps exam paths in its flags (see
// nodeViewArgs); on the host it gets node-dir paths.
func (s *supervisor) command(spec *launchSpec) (*exec.Cmd, []string) {
	env := append(append([]string{}, spec.env...), nodeDirEnv+"="+s.nodeDir)
	name := path.Base(spec.argv[0])
	if s.nsMode == modeMountNS || s.nsMode == modeUserNS {
		binds := s.node.binds()
		args := spec.nodeViewArgs(bindTargets(binds))
		for i, e := range env {
			if v, ok := strings.CutPrefix(e, "PATH="); ok {
				env[i] = "PATH=" + filepath.Dir(spec.binary) + ":" + v
			}
		}
		cmd := exec.Command("unshare", unshareArgs(s.nsMode, binds, append([]string{name}, args...))...)
		cmd.Env = env
		return cmd, args
	}
	cmd := exec.Command(spec.binary, spec.hostArgs...)
	cmd.Args[0] = name
	cmd.Env = env
	return cmd, spec.hostArgs
}

// runOnce runs the process until it exits (returns its exit description),
// the manifest changes (changed=true) or ctx ends; it always leaves no
// process behind.
func (s *supervisor) runOnce(ctx context.Context, w *podWorker, spec *launchSpec) (exit string, changed bool) {
	logPath := hostPathOf(s.nodeDir, "/var/log/pods/"+w.name+".log")
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return "create log dir: " + err.Error(), false
	}
	// Keep the previous container's log, like `crictl logs --previous`.
	_ = os.Rename(logPath, strings.TrimSuffix(logPath, ".log")+".previous.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return "open log: " + err.Error(), false
	}
	defer logFile.Close()
	tail := &logTail{file: logFile, mapper: spec.mapper, max: logTailSize}

	// A restart asked for the previous process (it exited meanwhile) must
	// not stop this one.
	select {
	case <-w.restart:
	default:
	}
	cmd, args := s.command(spec)
	cmd.Dir = spec.mapper.rootfs
	pr, pw, err := os.Pipe()
	if err != nil {
		return "create pipe: " + err.Error(), false
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.SysProcAttr = componentAttr()
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		s.update(w, func(c *componentStatus) {
			c.LastError = "start " + spec.binary + ": " + err.Error()
		})
		return "failed to start: " + err.Error(), false
	}
	pw.Close()
	s.logf("%s: started pid %d (manifest %s)", w.name, cmd.Process.Pid, spec.hash)
	if w.name == compAPI {
		s.mu.Lock()
		s.apiStarts++
		s.mu.Unlock()
	}
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		tail.copyFrom(pr, func() { s.update(w, func(c *componentStatus) { c.LogTail = tail.lines() }) })
	}()
	waitDone := make(chan error, 1)
	go func() { waitDone <- cmd.Wait() }()

	s.update(w, func(c *componentStatus) {
		c.Phase, c.Running, c.Ready, c.PID = phaseRunning, true, false, cmd.Process.Pid
		c.ManifestHash, c.Args, c.HostArgs = spec.hash, spec.argv, args
		c.Since, c.LogTail = s.clock.Now(), nil
	})
	probeCtx, stopProbe := context.WithCancel(ctx)
	defer stopProbe()
	go s.probe(probeCtx, w, spec)

	stopProc := func() {
		stopProbe()
		t0 := s.clock.Now()
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case werr := <-waitDone:
			s.logf("%s: pid %d stopped after SIGTERM in %s (%v)", w.name, cmd.Process.Pid, s.clock.Since(t0).Round(time.Millisecond), werr)
		case <-s.clock.After(stopGrace):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			werr := <-waitDone
			s.logf("%s: pid %d ignored SIGTERM for %s, killed (%v)", w.name, cmd.Process.Pid, stopGrace, werr)
		}
		// Helpers that ignored SIGTERM die with the group.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-logDone
	}
	for {
		select {
		case <-ctx.Done():
			stopProc()
			return "stopped", false
		case <-w.notify:
			if _, h := w.latest(); h == spec.hash {
				continue
			}
			stopProc()
			return "manifest changed", true
		case <-w.restart:
			s.logf("%s: restarting pid %d: %s", w.name, cmd.Process.Pid, exitRestartAfterAPI)
			stopProc()
			return exitRestartAfterAPI, true
		case werr := <-waitDone:
			stopProbe()
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-logDone
			desc := "exited"
			var ee *exec.ExitError
			if errors.As(werr, &ee) {
				desc = "exited: " + ee.String()
			} else if werr == nil {
				desc = "exited with code 0"
			}
			s.update(w, func(c *componentStatus) { c.LogTail = tail.lines() })
			s.logf("%s: pid %d %s", w.name, cmd.Process.Pid, desc)
			return desc, false
		}
	}
}
