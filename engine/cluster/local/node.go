package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/fsutil"
)

// node is the control-plane node: its filesystem is the node dir, seen at
// exam paths (/etc/kubernetes/..., /var/lib/etcd, /var/log/...).
type node struct {
	nodeDir string

	modeOnce sync.Once
	mode     execMode
	modeNote string
}

var (
	_ cluster.Node  = (*node)(nil)
	_ cluster.Shell = (*node)(nil)
)

func newNode(nodeDir string) *node { return &node{nodeDir: nodeDir} }

func (n *node) Name() string { return nodeName }
func (n *node) Role() string { return cluster.RoleControlPlane }

// resolve maps an absolute node path to a host path inside the node dir.
// It refuses relative paths, any ".." element and ckslab's bookkeeping dir,
// and resolves symlinks itself with the node dir as root: an absolute link
// target means a node path, and a relative one may not climb above the root.
// The result never points outside the node dir.
func (n *node) resolve(p string) (string, error) {
	if !path.IsAbs(p) {
		return "", fmt.Errorf("node path %q must be absolute", p)
	}
	for _, el := range strings.Split(p, "/") {
		if el == ".." {
			return "", fmt.Errorf("node path %q must not contain '..'", p)
		}
	}
	pending := splitPath(p)
	cur := "/"
	for hops := 0; len(pending) > 0; {
		el := pending[0]
		pending = pending[1:]
		if el == ".." {
			if cur == "/" {
				return "", fmt.Errorf("node path %q escapes the node through a symlink", p)
			}
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, el)
		if next == "/"+internalDir {
			return "", fmt.Errorf("node path %q is not part of the node", p)
		}
		fi, err := os.Lstat(hostPathOf(n.nodeDir, next))
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			// Missing or a plain entry: nothing left to resolve here.
			cur = next
			continue
		}
		hops++
		if hops > 40 {
			return "", fmt.Errorf("node path %q: too many levels of symbolic links", p)
		}
		target, err := os.Readlink(hostPathOf(n.nodeDir, next))
		if err != nil {
			return "", fmt.Errorf("read link %s: %w", next, err)
		}
		if path.IsAbs(target) {
			cur = "/"
		}
		pending = append(splitPath(target), pending...)
	}
	return hostPathOf(n.nodeDir, cur), nil
}

func splitPath(p string) []string {
	var out []string
	for _, el := range strings.Split(p, "/") {
		if el != "" && el != "." {
			out = append(out, el)
		}
	}
	return out
}

// ReadFile implements cluster.Node.
func (n *node) ReadFile(ctx context.Context, p string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	hp, err := n.resolve(p)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(hp)
	if err != nil {
		return nil, fmt.Errorf("read %s on node %s: %w", p, nodeName, unwrapPathErr(err))
	}
	return b, nil
}

// WriteFile implements cluster.Node; writes are atomic so the supervisor
// never reads half a manifest.
func (n *node) WriteFile(ctx context.Context, p string, data []byte, mode fs.FileMode) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	hp, err := n.resolve(p)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(hp), 0o755); err != nil {
		return fmt.Errorf("write %s on node %s: %w", p, nodeName, unwrapPathErr(err))
	}
	if err := fsutil.WriteFileAtomic(hp, data, mode.Perm()); err != nil {
		return fmt.Errorf("write %s on node %s: %w", p, nodeName, unwrapPathErr(err))
	}
	return nil
}

// Remove implements cluster.Node.
func (n *node) Remove(ctx context.Context, p string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	hp, err := n.resolve(p)
	if err != nil {
		return err
	}
	if err := os.Remove(hp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s on node %s: %w", p, nodeName, unwrapPathErr(err))
	}
	return nil
}

// Stat implements cluster.Node.
func (n *node) Stat(ctx context.Context, p string) (fs.FileMode, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	hp, err := n.resolve(p)
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(hp)
	if err != nil {
		return 0, fmt.Errorf("stat %s on node %s: %w", p, nodeName, unwrapPathErr(err))
	}
	return fi.Mode(), nil
}

// unwrapPathErr drops the host path from *fs.PathError so messages show the
// node path only, while keeping errors.Is(err, fs.ErrNotExist) working.
func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

type execMode int

const (
	// modeMountNS: a private mount namespace with the node dirs bound over
	// the exam paths (root, or a user namespace where the paths exist).
	modeMountNS execMode = iota + 1
	modeUserNS
	// modeFallback: the command runs on the host with cwd=nodeDir and
	// NODE_ROOT set; exam paths are NOT redirected.
	modeFallback
)

// detect picks how commands run "on the node" once per node.
func (n *node) detect(ctx context.Context) (execMode, string) {
	n.modeOnce.Do(func() {
		unshare, err := exec.LookPath("unshare")
		if err != nil {
			n.mode, n.modeNote = modeFallback, "node commands run on the host with NODE_ROOT="+n.nodeDir+" (no unshare(1) found), so /etc/kubernetes is not redirected"
			return
		}
		if os.Geteuid() == 0 {
			if exec.CommandContext(ctx, unshare, "--mount", "--uts", "--propagation", "private", "true").Run() == nil {
				n.mode = modeMountNS
				return
			}
		} else if exec.CommandContext(ctx, unshare, "--user", "--map-root-user", "--mount", "--uts", "--propagation", "private", "true").Run() == nil {
			missing := false
			for _, b := range n.binds() {
				if _, err := os.Stat(b[1]); err != nil {
					missing = true
				}
			}
			if !missing {
				n.mode = modeUserNS
				return
			}
			n.mode, n.modeNote = modeFallback, "node commands run on the host with NODE_ROOT="+n.nodeDir+": a user namespace works but /etc/kubernetes or /var/lib/etcd does not exist on the host to mount over (create them as root, or run ckslab as root)"
			return
		}
		n.mode, n.modeNote = modeFallback, "node commands run on the host with NODE_ROOT="+n.nodeDir+": mount namespaces are unavailable (run as root or enable unprivileged user namespaces)"
	})
	return n.mode, n.modeNote
}

// binds lists [nodeDir source, host target] pairs for the mount namespace:
// the kubeadm paths, the node's /opt, plus any lab directory a scenario
// created under /etc on the node. Host CA bundles stay the host's.
func (n *node) binds() [][2]string {
	// The node's whole /opt replaces the host's, so a learner's
	// `mkdir /opt/course/x` lands on the node, never on the host.
	_ = os.MkdirAll(hostPathOf(n.nodeDir, "/opt"), 0o755)
	out := [][2]string{
		{hostPathOf(n.nodeDir, "/etc/kubernetes"), "/etc/kubernetes"},
		{hostPathOf(n.nodeDir, "/var/lib/etcd"), "/var/lib/etcd"},
		{hostPathOf(n.nodeDir, "/var/log"), "/var/log"},
		{hostPathOf(n.nodeDir, "/opt"), "/opt"},
	}
	for _, parent := range []string{"/etc"} {
		entries, _ := os.ReadDir(hostPathOf(n.nodeDir, parent))
		for _, e := range entries {
			name := e.Name()
			if !e.IsDir() || name == "kubernetes" || name == "ssl" || name == "ca-certificates" {
				continue
			}
			out = append(out, [2]string{hostPathOf(n.nodeDir, parent+"/"+name), parent + "/" + name})
		}
	}
	return out
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// command builds argv to run "on the node" and the env it needs.
func (n *node) command(ctx context.Context, argv []string) (*exec.Cmd, execMode, error) {
	if len(argv) == 0 {
		return nil, 0, errors.New("exec on node: empty command")
	}
	mode, _ := n.detect(ctx)
	kubeconfig := "/etc/kubernetes/admin.conf"
	if mode == modeFallback {
		kubeconfig = hostPathOf(n.nodeDir, kubeconfig)
	}
	env := append(os.Environ(), "NODE_ROOT="+n.nodeDir, "KUBECONFIG="+kubeconfig)
	if mode == modeFallback {
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Dir = n.nodeDir
		cmd.Env = env
		return cmd, mode, nil
	}
	cmd := exec.CommandContext(ctx, "unshare", unshareArgs(mode, n.binds(), argv)...)
	cmd.Env = env
	return cmd, mode, nil
}

// unshareArgs are unshare(1)'s arguments to run argv in a new mount and UTS
// namespace with binds ([source, target] pairs) mounted and the hostname
// set to the node's. argv[0] is looked up in the command's PATH and keeps
// its name, as a container's process does.
func unshareArgs(mode execMode, binds [][2]string, argv []string) []string {
	var script strings.Builder
	script.WriteString("set -e\n")
	for _, b := range binds {
		if _, err := os.Stat(b[0]); err != nil {
			continue
		}
		// The mount point must exist; as root we create an empty directory
		// on the host (the only host change ckslab makes for the node view).
		fmt.Fprintf(&script, "[ -d %s ] || mkdir -p %s\nmount --bind %s %s\n", shellQuote(b[1]), shellQuote(b[1]), shellQuote(b[0]), shellQuote(b[1]))
	}
	script.WriteString("hostname " + nodeName + " 2>/dev/null || true\nexec \"$@\"\n")
	args := []string{"--mount", "--uts", "--propagation", "private"}
	if mode == modeUserNS {
		args = append([]string{"--user", "--map-root-user"}, args...)
	}
	args = append(args, "--", "/bin/sh", "-c", script.String(), "sh")
	return append(args, argv...)
}

// bindTargets are the node-view paths binds mount over.
func bindTargets(binds [][2]string) []string {
	out := make([]string, 0, len(binds))
	for _, b := range binds {
		if _, err := os.Stat(b[0]); err == nil {
			out = append(out, b[1])
		}
	}
	return out
}

// Exec implements cluster.Node.
func (n *node) Exec(ctx context.Context, stdin io.Reader, argv ...string) ([]byte, error) {
	cmd, _, err := n.command(ctx, argv)
	if err != nil {
		return nil, err
	}
	cmd.Stdin = stdin
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.Bytes(), &cluster.ExitError{Code: ee.ExitCode(), Output: out.Bytes()}
	}
	if err != nil {
		return out.Bytes(), fmt.Errorf("exec %s on node %s: %w", argv[0], nodeName, err)
	}
	return out.Bytes(), nil
}

// shellCmd adapts *exec.Cmd to cluster.Cmd.
type shellCmd struct{ *exec.Cmd }

func (c shellCmd) SetIO(stdin io.Reader, stdout, stderr io.Writer) {
	c.Stdin, c.Stdout, c.Stderr = stdin, stdout, stderr
}

// ShellCommand implements cluster.Shell: an interactive bash "on" the node.
func (n *node) ShellCommand(ctx context.Context, env []string) (cluster.Cmd, error) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		return nil, fmt.Errorf("ssh %s: bash is not installed on this host", nodeName)
	}
	cmd, mode, err := n.command(ctx, []string{bash, "--norc", "--noprofile", "-i"})
	if err != nil {
		return nil, err
	}
	cmd.Env = append(append(cmd.Env, env...), "PS1="+nodeName+" $ ")
	if mode == modeFallback {
		_, note := n.detect(ctx)
		fmt.Fprintln(os.Stderr, "ckslab: "+note)
	}
	return shellCmd{cmd}, nil
}

// detectNamespaceMode returns a status note about how node commands run.
func detectNamespaceMode(ctx context.Context) string {
	n := &node{nodeDir: "/nonexistent"}
	mode, note := n.detect(ctx)
	if mode == modeFallback {
		return note
	}
	return "`ckslab ssh controlplane` and node commands run in a private mount namespace where the node's /etc/kubernetes, /var/lib/etcd and /var/log are mounted."
}
