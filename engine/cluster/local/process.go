package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gofrs/flock"
)

// supervisorRunning reports whether a supervisor holds the cluster's lock.
func supervisorRunning(nodeDir string) bool {
	if _, err := os.Stat(lockFile(nodeDir)); err != nil {
		return false
	}
	l := flock.New(lockFile(nodeDir))
	ok, err := l.TryLock()
	if err != nil {
		return false
	}
	if ok {
		_ = l.Unlock()
		return false
	}
	return true
}

// startSupervisor launches the detached supervisor process.
func (b *Backend) startSupervisor(nodeDir string) error {
	cmd := b.opts.supervisor(nodeDir)
	logf, err := os.OpenFile(supervisorLog(nodeDir), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("open supervisor log: %w", err)
	}
	defer logf.Close()
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = logf, logf
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, nodeDirEnv+"="+nodeDir)
	cmd.Dir = nodeDir
	// Its own session: Ctrl-C in the learner's terminal must not reach it,
	// and it outlives the ckslab command that started it. A supervisor
	// command may ask to die with its parent instead (test clusters: a
	// killed or timed-out test binary must not leave a control plane).
	cmd.SysProcAttr = supervisorAttr(cmd.SysProcAttr)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start supervisor %s: %w", cmd.Path, err)
	}
	// Reap it if it exits while we still run (no zombie in long sessions).
	go func() { _ = cmd.Wait() }()
	return nil
}

// Down implements cluster.Backend: stop the supervisor (which stops every
// component), kill anything left over, and remove the node dir unless
// WithKeepNodeDir was given. A missing cluster is not an error.
func (b *Backend) Down(ctx context.Context, name string) error {
	if name == "" {
		name = defaultClusterName
	}
	if err := validName(name); err != nil {
		return err
	}
	nodeDir := b.NodeDir(name)
	if _, err := os.Stat(nodeDir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := b.destroy(ctx, nodeDir, b.opts.keepNodeDir); err != nil {
		return fmt.Errorf("delete local cluster %s: %w", name, err)
	}
	return nil
}

func (b *Backend) destroy(ctx context.Context, nodeDir string, keep bool) error {
	if err := stopSupervisor(ctx, nodeDir); err != nil {
		return err
	}
	if keep {
		return nil
	}
	if err := os.RemoveAll(nodeDir); err != nil {
		return fmt.Errorf("remove %s: %w (remove it by hand)", nodeDir, err)
	}
	return nil
}

// stopSupervisor asks the supervisor to stop (it stops the components with
// their grace period), escalates to SIGKILL, then kills any process still
// marked with this node dir, e.g. after a supervisor crash.
func stopSupervisor(ctx context.Context, nodeDir string) error {
	if pidBytes, err := os.ReadFile(pidFile(nodeDir)); err == nil && supervisorRunning(nodeDir) {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(pidBytes))); err == nil && pid > 1 {
			_ = syscall.Kill(pid, syscall.SIGTERM)
			deadline := time.Now().Add(stopGrace + 5*time.Second)
			for supervisorRunning(nodeDir) && time.Now().Before(deadline) && ctx.Err() == nil {
				time.Sleep(50 * time.Millisecond)
			}
			if supervisorRunning(nodeDir) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	return killMarked(ctx, nodeDir)
}

// killMarked SIGKILLs every process whose environment carries this node
// dir marker and waits until they are gone.
func killMarked(ctx context.Context, nodeDir string) error {
	marker := []byte(nodeDirEnv + "=" + nodeDir + "\x00")
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids := markedPIDs(marker)
		if len(pids) == 0 {
			return nil
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("processes %v of %s did not exit after SIGKILL", pids, nodeDir)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func markedPIDs(marker []byte) []int {
	entries, _ := os.ReadDir("/proc")
	self := os.Getpid()
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil || len(env) == 0 {
			continue // exited, a zombie, or not ours
		}
		if strings.Contains(string(env)+"\x00", string(marker)) {
			out = append(out, pid)
		}
	}
	return out
}
