package kind

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os/exec"
	"strconv"
	"strings"

	"github.com/ckslab/ckslab/engine/cluster"
)

// Node is a kind node container reached with `<cli> exec`.
type Node struct {
	name string
	role string
	cli  string
	run  Runner
}

var (
	_ cluster.Node  = (*Node)(nil)
	_ cluster.Shell = (*Node)(nil)
)

// NewNode returns a node reached through cli ("docker", "podman", "nerdctl").
func NewNode(name, role, cli string, run Runner) *Node {
	return &Node{name: name, role: role, cli: cli, run: run}
}

// Name is the node (container) name.
func (n *Node) Name() string { return n.name }

// Role is cluster.RoleControlPlane or cluster.RoleWorker.
func (n *Node) Role() string { return n.role }

// Exec runs argv in the node. stdin, when non-nil, is streamed to the command.
func (n *Node) Exec(ctx context.Context, stdin io.Reader, argv ...string) ([]byte, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("exec on node %s: empty command", n.name)
	}
	args := []string{"exec"}
	if stdin != nil {
		args = append(args, "-i")
	}
	args = append(args, n.name)
	args = append(args, argv...)
	return n.run.Run(ctx, stdin, n.cli, args...)
}

// ReadFile returns the content of path on the node.
func (n *Node) ReadFile(ctx context.Context, p string) ([]byte, error) {
	out, err := n.Exec(ctx, nil, "cat", "--", p)
	if err != nil {
		return nil, n.fileErr("read", p, out, err)
	}
	return out, nil
}

// writeScript writes stdin to a hidden temporary file next to the target
// (the kubelet ignores dot-files in its manifest directory, so it never sees
// a half-written static pod) and renames it into place.
const writeScript = `set -e; d=$(dirname "$1"); mkdir -p "$d"; t="$d/.$(basename "$1").ckslab-tmp"; cat > "$t"; chmod "$2" "$t"; mv -f "$t" "$1"`

// WriteFile writes data to path on the node with mode, creating parent directories.
func (n *Node) WriteFile(ctx context.Context, p string, data []byte, mode fs.FileMode) error {
	out, err := n.Exec(ctx, bytes.NewReader(data), "sh", "-c", writeScript, "sh", p, fmt.Sprintf("%04o", mode.Perm()))
	if err != nil {
		return n.fileErr("write", p, out, err)
	}
	return nil
}

// Remove deletes path; a missing file is not an error.
func (n *Node) Remove(ctx context.Context, p string) error {
	out, err := n.Exec(ctx, nil, "rm", "-f", "--", p)
	if err != nil {
		return n.fileErr("remove", p, out, err)
	}
	return nil
}

// Stat returns the permission bits of path.
func (n *Node) Stat(ctx context.Context, p string) (fs.FileMode, error) {
	out, err := n.Exec(ctx, nil, "stat", "-c", "%a", "--", p)
	if err != nil {
		return 0, n.fileErr("stat", p, out, err)
	}
	v, perr := strconv.ParseUint(strings.TrimSpace(string(out)), 8, 32)
	if perr != nil {
		return 0, fmt.Errorf("stat %s on node %s: unexpected mode %q", p, n.name, strings.TrimSpace(string(out)))
	}
	return fs.FileMode(v), nil
}

func (n *Node) fileErr(op, p string, out []byte, err error) error {
	var ee *cluster.ExitError
	if errors.As(err, &ee) && bytes.Contains(out, []byte("No such file or directory")) {
		return fmt.Errorf("%s %s on node %s: %w", op, p, n.name, fs.ErrNotExist)
	}
	return fmt.Errorf("%s %s on node %s: %w (is the node running? try: %s ps --filter name=%s)", op, p, n.name, err, n.cli, n.name)
}

// ShellCommand returns `<cli> exec -it [-e K=V]... <node> bash -l` for `ckslab ssh NODE`.
func (n *Node) ShellCommand(ctx context.Context, env []string) (cluster.Cmd, error) {
	args := []string{"exec", "-it"}
	for _, e := range env {
		args = append(args, "-e", e)
	}
	args = append(args, "-w", "/root", n.name, "bash", "-l")
	bin, err := exec.LookPath(n.cli)
	if err != nil {
		return nil, fmt.Errorf("open a shell on node %s: %s not found on PATH: %w", n.name, n.cli, err)
	}
	return &execCmd{cmd: exec.CommandContext(ctx, bin, args...)}, nil
}

// kubectl runs kubectl inside the node with the kubeadm admin kubeconfig, so
// ckslab needs no kubectl on the host for cluster plumbing.
func kubectlArgv(args ...string) []string {
	return append([]string{"kubectl", "--kubeconfig=/etc/kubernetes/admin.conf"}, args...)
}
