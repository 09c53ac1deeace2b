// Package cluster defines the seam between ckslab's engine and the places a
// lab can run: a kind cluster (engine/cluster/kind) or a local control plane
// of real processes (engine/cluster/local). Nothing here imports kind.
package cluster

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
)

// Capability re-exports the scenario capability type.
type Capability = v1alpha1.Capability

// Capabilities is a set of capabilities a backend provides.
type Capabilities map[Capability]bool

// NewCapabilities builds a set.
func NewCapabilities(cs ...Capability) Capabilities {
	s := Capabilities{}
	for _, c := range cs {
		s[c] = true
	}
	return s
}

// Has reports whether c is in the set.
func (s Capabilities) Has(c Capability) bool { return s[c] }

// Missing returns the required capabilities not in s, sorted.
func (s Capabilities) Missing(required []Capability) []Capability {
	var out []Capability
	for _, c := range required {
		if !s[c] {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// List returns the set sorted.
func (s Capabilities) List() []Capability {
	var out []Capability
	for c, ok := range s {
		if ok {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (s Capabilities) String() string {
	var parts []string
	for _, c := range s.List() {
		parts = append(parts, string(c))
	}
	return strings.Join(parts, ",")
}

// Spec describes the cluster a scenario wants.
type Spec struct {
	// Name of the cluster; backends default it to "ckslab".
	Name string
	// Variant is a kind config name from kindconfigs/ ("" = default).
	Variant string
	// NodeImage overrides the node image (kind only).
	NodeImage string
	// Addons to ensure (kind only): gatekeeper, gvisor, apparmor, falco.
	Addons []string
}

// Step is one provisioning progress event.
type Step struct {
	// ID is stable per step ("binaries", "certs", "etcd", "apiserver", "cni", ...).
	ID string
	// Title is shown to the user.
	Title string
	// Line is the latest output line of the step, if any.
	Line string
	// Done marks the step finished; Err is set when it failed.
	Done bool
	Err  error
	At   time.Time
}

// ProgressFunc receives provisioning steps; it may be nil.
type ProgressFunc func(Step)

// Report calls p if it is non-nil.
func (p ProgressFunc) Report(s Step) {
	if p != nil {
		if s.At.IsZero() {
			s.At = time.Now()
		}
		p(s)
	}
}

// Facts are what a backend states about itself and its clusters, so the
// engine and the UI ask them instead of comparing backend names.
type Facts struct {
	// NodeIsolated is true when every node is a machine or container of its
	// own (kind), so a command run "on a node" cannot reach the user's
	// files. False, the zero value, means a node's commands and files are
	// the user's own machine (the local backend): a cluster whose backend
	// states nothing is treated as the host.
	NodeIsolated bool
	// Foreign is true when the cluster is the user's own, not provisioned
	// by ckslab (the cluster backend): setup then refuses to take over a
	// namespace that already exists there unless ckslab created it.
	Foreign bool
	// Provides is every capability the backend can provide on a host that
	// has what the capability needs (Needs); Capabilities(ctx) is what it
	// provides here and now.
	Provides Capabilities
	// Needs says, per capability of Provides that some hosts lack, what the
	// host must have for it ("AppArmor enabled in the host kernel").
	Needs map[Capability]string
	// Elsewhere is what the user can do to get a capability this backend
	// never provides ("" when no other backend provides more).
	Elsewhere string
}

// NodeIsHost reports whether node commands and files of the backend's
// clusters are the user's own machine.
func (f Facts) NodeIsHost() bool { return !f.NodeIsolated }

// Backend provisions and tears down clusters.
type Backend interface {
	// Name is "kind" or "local": for messages and the lab record; ask
	// Facts, not the name, what the backend can do.
	Name() string
	// Facts states what the backend is and can provide.
	Facts() Facts
	// Capabilities reports what this backend can honestly provide on this host.
	Capabilities(ctx context.Context) Capabilities
	// Up creates the cluster or reuses a running one with that name.
	Up(ctx context.Context, spec Spec, progress ProgressFunc) (*Cluster, error)
	// Get returns a running cluster, or an error wrapping ErrNotFound.
	Get(ctx context.Context, name string) (*Cluster, error)
	// Down deletes the cluster and stops everything it started.
	Down(ctx context.Context, name string) error
	// Status describes the cluster's components for `ckslab cluster status`.
	Status(ctx context.Context, name string) (*Status, error)
}

// AddonRemover is implemented by backends that install add-ons for a lab
// (Spec.Addons): RemoveAddon takes one out again when the lab that asked
// for it ends, so the next lab starts on the cluster as it was (a
// Gatekeeper left installed judges, and on an API server restart denies,
// every later lab's requests). Removing an add-on that is not installed
// does nothing.
type AddonRemover interface {
	RemoveAddon(ctx context.Context, c *Cluster, addon string, progress ProgressFunc) error
}

// ErrNotFound is wrapped when a cluster does not exist.
var ErrNotFound = fmt.Errorf("cluster not found")

// Cluster is a running cluster.
type Cluster struct {
	Name string
	// Backend names the backend, for messages and the lab record.
	Backend string
	// Facts are the backend's (Backend.Facts).
	Facts Facts
	// Kubeconfig is the path of the admin kubeconfig ckslab wrote for this
	// cluster (never the learner's ~/.kube/config).
	Kubeconfig   string
	Capabilities Capabilities
	Nodes        []Node
	// Components inspects control-plane components (may be nil).
	Components Components
	// Etcd reads raw etcd values (may be nil when the backend lacks CapEtcd).
	Etcd EtcdReader
}

// Node returns the named node, or the control-plane node for "".
func (c *Cluster) Node(name string) (Node, error) {
	for _, n := range c.Nodes {
		if name == "" && n.Role() == RoleControlPlane {
			return n, nil
		}
		if n.Name() == name {
			return n, nil
		}
	}
	if name == "" {
		return nil, fmt.Errorf("cluster %s has no control-plane node", c.Name)
	}
	var names []string
	for _, n := range c.Nodes {
		names = append(names, n.Name())
	}
	return nil, fmt.Errorf("cluster %s has no node %q (nodes: %s)", c.Name, name, strings.Join(names, ", "))
}

// NodeIsHost reports whether this cluster's node commands run on the
// user's machine; a nil cluster has no nodes.
func (c *Cluster) NodeIsHost() bool { return c != nil && c.Facts.NodeIsHost() }

// HostExecRefused is CheckHostExec's refusal.
type HostExecRefused struct {
	// Backend names the cluster's backend.
	Backend string
}

func (e *HostExecRefused) Error() string {
	return "this scenario comes from a pack and wants to run a command on a node that is your own machine (" + e.Backend + " backend); refused: use --backend kind, or allow it explicitly with --allow-host-commands"
}

// CheckHostExec is the security boundary for node commands: it refuses
// them (a *HostExecRefused) for an untrusted scenario (from a pack) on a
// cluster whose nodes are the user's own machine, unless the user allowed
// it. A nil cluster runs nothing, so it is not refused here.
func CheckHostExec(c *Cluster, trusted, allowed bool) error {
	if trusted || allowed || !c.NodeIsHost() {
		return nil
	}
	return &HostExecRefused{Backend: c.Backend}
}

// ManagedByLabel (= ManagedByValue) marks objects ckslab's own machinery
// creates on a cluster it did not provision (the cluster backend's
// node-access and probe pods and their namespaces): Down deletes them, and
// a lab reset leaves them alone (they are not the learner's).
const (
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedByValue = "ckslab"
)

// Node roles, as Node.Role reports them.
const (
	// RoleControlPlane is the node that runs the control plane's static pods.
	RoleControlPlane = "control-plane"
	// RoleWorker is a node that runs workloads only.
	RoleWorker = "worker"
)

// Node is a machine of the cluster as the exam presents it: files at their
// usual paths and a shell.
type Node interface {
	Name() string
	Role() string
	// Exec runs argv on the node and returns combined output. A non-zero exit
	// is an *ExitError carrying the code.
	Exec(ctx context.Context, stdin io.Reader, argv ...string) ([]byte, error)
	ReadFile(ctx context.Context, path string) ([]byte, error)
	WriteFile(ctx context.Context, path string, data []byte, mode fs.FileMode) error
	// Remove deletes a file; a missing file is not an error.
	Remove(ctx context.Context, path string) error
	// Stat returns the mode of a file, or an error wrapping fs.ErrNotExist.
	Stat(ctx context.Context, path string) (fs.FileMode, error)
}

// ExitError is a command that ran and exited non-zero.
type ExitError struct {
	Code   int
	Output []byte
}

func (e *ExitError) Error() string {
	out := strings.TrimSpace(string(e.Output))
	if len(out) > 300 {
		out = "..." + out[len(out)-300:]
	}
	if out == "" {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return fmt.Sprintf("exit status %d: %s", e.Code, out)
}

// ComponentState is what a kubelet would report about a static pod.
type ComponentState struct {
	Name    string
	Running bool
	// Ready is true when the component's health endpoint answers.
	Ready bool
	// Args is the command line the running process was started with.
	Args     []string
	Restarts int
	// LastError and LogTail describe the last crash (what `crictl logs` shows).
	LastError string
	LogTail   []string
	Since     time.Time
}

// Components inspects control-plane components.
type Components interface {
	Component(ctx context.Context, name string) (ComponentState, error)
	// WaitHealthy waits until the component runs the current manifest and is ready.
	WaitHealthy(ctx context.Context, name string, timeout time.Duration) error
}

// EtcdReader reads raw values from etcd, bypassing the API server.
type EtcdReader interface {
	Get(ctx context.Context, key string) ([]byte, error)
}

// Status is a cluster's health for `cluster status`.
type Status struct {
	Name       string
	Backend    string
	Running    bool
	Kubeconfig string
	Components []ComponentState
	Notes      []string
}

// Shell is implemented by nodes that offer an interactive shell
// (`ckslab ssh NODE`). The returned command is run with the user's terminal.
type Shell interface {
	ShellCommand(ctx context.Context, env []string) (Cmd, error)
}

// Cmd is the subset of *exec.Cmd a shell needs, so backends may wrap it.
type Cmd interface {
	Run() error
	SetIO(stdin io.Reader, stdout, stderr io.Writer)
}
