package existing

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"

	"golang.org/x/term"
	"k8s.io/client-go/tools/remotecommand"

	"github.com/ckslab/ckslab/engine/cluster"
)

// Node is a node of the user's cluster, reached through a node-access pod
// (no SSH): commands run in the node's own namespaces with its binaries,
// files are the node's at their usual paths.
type Node struct {
	name string
	role string
	h    *Helpers
}

var (
	_ cluster.Node  = (*Node)(nil)
	_ cluster.Shell = (*Node)(nil)
)

// Name is the Kubernetes node name.
func (n *Node) Name() string { return n.name }

// Role is cluster.RoleControlPlane or cluster.RoleWorker.
func (n *Node) Role() string { return n.role }

// Exec runs argv on the node; stdin, when non-nil, is streamed to it.
func (n *Node) Exec(ctx context.Context, stdin io.Reader, argv ...string) ([]byte, error) {
	return n.h.Exec(ctx, n.name, stdin, argv)
}

// files are the node's file methods, run as commands through the
// node-access pod.
func (n *Node) files() cluster.ExecFiles { return cluster.ExecFiles{Node: n.name, Exec: n.Exec} }

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

// ShellCommand is an interactive login shell on the node (`ckslab ssh
// NODE`) through its node-access pod, with the user's terminal in raw
// mode when it is one. env is set in the shell.
func (n *Node) ShellCommand(ctx context.Context, env []string) (cluster.Cmd, error) {
	return &shellCmd{ctx: ctx, n: n, env: env}, nil
}

type shellCmd struct {
	ctx         context.Context
	n           *Node
	env         []string
	in          io.Reader
	out, errOut io.Writer
}

func (c *shellCmd) SetIO(stdin io.Reader, stdout, stderr io.Writer) {
	c.in, c.out, c.errOut = stdin, stdout, stderr
}

// shellScript starts a login shell in root's home, bash when the node has it.
const shellScript = `cd /root 2>/dev/null || cd /; if command -v bash >/dev/null; then exec bash -l; fi; exec sh -l`

func (c *shellCmd) Run() error {
	pod, err := c.n.h.pod(c.ctx, c.n.name)
	if err != nil {
		return err
	}
	argv := nodeEnter(append(append([]string{"env"}, c.env...), "sh", "-c", shellScript)...)
	tty := false
	var size remotecommand.TerminalSizeQueue
	if f, ok := c.in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		tty = true
		old, err := term.MakeRaw(int(f.Fd()))
		if err != nil {
			return fmt.Errorf("set the terminal to raw mode: %w", err)
		}
		defer func() { _ = term.Restore(int(f.Fd()), old) }()
		if w, h, err := term.GetSize(int(f.Fd())); err == nil {
			size = &fixedSize{size: &remotecommand.TerminalSize{Width: uint16(w), Height: uint16(h)}}
		}
	}
	err = c.n.h.exec(c.ctx, HelperNamespace, pod, "node", argv, tty, c.in, c.out, c.errOut, size)
	if ce := exitCode(err); ce >= 0 {
		return &cluster.ExitError{Code: ce}
	}
	return err
}

// fixedSize reports the terminal size once (the shell's initial size).
type fixedSize struct{ size *remotecommand.TerminalSize }

func (f *fixedSize) Next() *remotecommand.TerminalSize {
	s := f.size
	f.size = nil
	return s
}
