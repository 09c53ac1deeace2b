package kind

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os/exec"

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

// files are the node's file methods, run as commands in the container.
func (n *Node) files() cluster.ExecFiles {
	return cluster.ExecFiles{Node: n.name, Exec: n.Exec,
		Hint: fmt.Sprintf("is the node running? try: %s ps --filter name=%s", n.cli, n.name)}
}

// ReadFile returns the content of path on the node.
func (n *Node) ReadFile(ctx context.Context, p string) ([]byte, error) {
	return n.files().ReadFile(ctx, p)
}

// WriteFile writes data to path on the node with mode, creating parent directories.
func (n *Node) WriteFile(ctx context.Context, p string, data []byte, mode fs.FileMode) error {
	return n.files().WriteFile(ctx, p, data, mode)
}

// Remove deletes path; a missing file is not an error.
func (n *Node) Remove(ctx context.Context, p string) error { return n.files().Remove(ctx, p) }

// Stat returns the permission bits of path.
func (n *Node) Stat(ctx context.Context, p string) (fs.FileMode, error) {
	return n.files().Stat(ctx, p)
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
