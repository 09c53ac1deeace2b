// Package kubeadm inspects the static pod control plane of a kubeadm node
// (crictl and the components' health endpoints, run on the node through
// any cluster.Node), the way a learner would in the exam.
package kubeadm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/ckslab/ckslab/engine/cluster"
)

// healthURL is the local health endpoint of a kubeadm static pod ("" if none).
func healthURL(component string) string {
	switch component {
	case "kube-apiserver":
		return "https://127.0.0.1:6443/readyz"
	case "kube-controller-manager":
		return "https://127.0.0.1:10257/healthz"
	case "kube-scheduler":
		return "https://127.0.0.1:10259/healthz"
	case "etcd":
		return "http://127.0.0.1:2381/health"
	}
	return ""
}

// healthProbeArgs is the curl command (run in the node) that prints the HTTP
// status of a component's health endpoint, or nil. The API server is asked
// with the kubeadm apiserver-kubelet-client certificate: an anonymous request
// gets 401 whenever anonymous auth is off (the fix of api-01, or
// --anonymous-auth=true beside AlwaysAllow), which says nothing about health.
func healthProbeArgs(component string) []string {
	url := healthURL(component)
	if url == "" {
		return nil
	}
	argv := []string{"curl", "-sk", "--max-time", "3", "-o", "/dev/null", "-w", "%{http_code}"}
	if component == "kube-apiserver" {
		argv = append(argv, "--cert", "/etc/kubernetes/pki/apiserver-kubelet-client.crt",
			"--key", "/etc/kubernetes/pki/apiserver-kubelet-client.key")
	}
	return append(argv, url)
}

// ComponentNames are the control-plane static pods kubeadm runs.
func ComponentNames() []string {
	return []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"}
}

// Components inspects static pod containers on the control-plane node with
// crictl, the way a learner would in the exam.
type Components struct {
	node cluster.Node
	// poll is the interval between WaitHealthy probes.
	poll time.Duration
	now  func() time.Time
}

var _ cluster.Components = (*Components)(nil)

// NewComponents inspects the control plane on node.
func NewComponents(node cluster.Node, poll time.Duration) *Components {
	if poll <= 0 {
		poll = 2 * time.Second
	}
	return &Components{node: node, poll: poll, now: time.Now}
}

type crictlContainer struct {
	ID       string `json:"id"`
	Metadata struct {
		Name    string `json:"name"`
		Attempt int    `json:"attempt"`
	} `json:"metadata"`
	State     string `json:"state"`
	CreatedAt string `json:"createdAt"`
}

// latestContainer returns the newest container named exactly name.
func (c *Components) latestContainer(ctx context.Context, name string) (*crictlContainer, error) {
	out, err := c.node.Exec(ctx, nil, "crictl", "ps", "-a", "--name", "^"+name+"$", "-o", "json")
	if err != nil {
		return nil, fmt.Errorf("list %s containers on %s: %w", name, c.node.Name(), err)
	}
	var list struct {
		Containers []crictlContainer `json:"containers"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		return nil, fmt.Errorf("parse crictl ps output for %s: %w", name, err)
	}
	var best *crictlContainer
	for i := range list.Containers {
		ct := &list.Containers[i]
		if ct.Metadata.Name != name {
			continue
		}
		if best == nil || createdNanos(ct.CreatedAt) > createdNanos(best.CreatedAt) {
			best = ct
		}
	}
	if best == nil {
		return nil, fmt.Errorf("no %s container on %s: %w", name, c.node.Name(), fs.ErrNotExist)
	}
	return best, nil
}

func createdNanos(s string) int64 {
	v, _ := strconv.ParseInt(s, 10, 64)
	return v
}

// Component reports the state of one static pod component.
func (c *Components) Component(ctx context.Context, name string) (cluster.ComponentState, error) {
	st := cluster.ComponentState{Name: name}
	ct, err := c.latestContainer(ctx, name)
	if errors.Is(err, fs.ErrNotExist) {
		st.LastError = fmt.Sprintf("no %s container exists yet (check /etc/kubernetes/manifests/%s.yaml)", name, name)
		return st, nil
	}
	if err != nil {
		return st, err
	}
	st.Running = ct.State == "CONTAINER_RUNNING"
	st.Restarts = ct.Metadata.Attempt
	if n := createdNanos(ct.CreatedAt); n > 0 {
		st.Since = time.Unix(0, n)
	}
	if st.Running {
		out, err := c.node.Exec(ctx, nil, "crictl", "inspect", "-o", "go-template", "--template", "{{.info.pid}}", ct.ID)
		if err != nil {
			return st, fmt.Errorf("inspect %s container %s: %w", name, ct.ID, err)
		}
		pid := strings.TrimSpace(string(out))
		cmdline, err := c.node.Exec(ctx, nil, "cat", "/proc/"+pid+"/cmdline")
		if err != nil {
			return st, fmt.Errorf("read command line of %s (pid %s): %w", name, pid, err)
		}
		st.Args = splitCmdline(cmdline)
		if argv := healthProbeArgs(name); argv != nil {
			code, _ := c.node.Exec(ctx, nil, argv...)
			st.Ready = strings.TrimSpace(string(code)) == "200"
		}
	}
	if !st.Running || st.Restarts > 0 {
		logs, _ := c.node.Exec(ctx, nil, "crictl", "logs", "--tail", "20", ct.ID)
		st.LogTail = nonEmptyLines(string(logs))
		if !st.Running && len(st.LogTail) > 0 {
			st.LastError = st.LogTail[len(st.LogTail)-1]
		}
	}
	return st, nil
}

func splitCmdline(b []byte) []string {
	var out []string
	for _, a := range strings.Split(string(b), "\x00") {
		if a != "" {
			out = append(out, a)
		}
	}
	return out
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// WaitHealthy waits until name runs a container created after its manifest
// was last written and its health endpoint answers.
func (c *Components) WaitHealthy(ctx context.Context, name string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	manifest := "/etc/kubernetes/manifests/" + name + ".yaml"
	var last cluster.ComponentState
	var lastErr error
	for {
		mtime := time.Time{}
		if out, err := c.node.Exec(ctx, nil, "stat", "-c", "%Y", manifest); err == nil {
			if s, perr := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); perr == nil {
				mtime = time.Unix(s, 0)
			}
		}
		last, lastErr = c.Component(ctx, name)
		if lastErr == nil && last.Running && last.Ready && !last.Since.Before(mtime) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not healthy after %s: %s (inspect with: ckslab ssh %s, then crictl ps -a --name %s)",
				name, timeout, describeState(last, lastErr, mtime), c.node.Name(), name)
		case <-time.After(c.poll):
		}
	}
}

func describeState(s cluster.ComponentState, err error, mtime time.Time) string {
	switch {
	case err != nil:
		return err.Error()
	case !s.Running && s.LastError != "":
		return fmt.Sprintf("not running, %d restarts, last error: %s", s.Restarts, s.LastError)
	case !s.Running:
		return "not running"
	case !s.Since.Before(mtime) && !s.Ready:
		return "running but its health endpoint does not answer 200"
	case s.Since.Before(mtime):
		return "still running the previous manifest (the kubelet has not restarted it yet)"
	}
	return "unknown state"
}

// Etcd reads raw values with etcdctl inside the etcd static pod, using the
// kubeadm healthcheck client certificate (the only client cert the etcd pod mounts).
type Etcd struct{ node cluster.Node }

var _ cluster.EtcdReader = (*Etcd)(nil)

// NewEtcd reads etcd through the control-plane node.
func NewEtcd(node cluster.Node) *Etcd { return &Etcd{node: node} }

// EtcdctlArgs is the etcdctl invocation used for a key.
func EtcdctlArgs(key string) []string {
	return []string{"etcdctl",
		"--endpoints=https://127.0.0.1:2379",
		"--cacert=/etc/kubernetes/pki/etcd/ca.crt",
		"--cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt",
		"--key=/etc/kubernetes/pki/etcd/healthcheck-client.key",
		"get", key, "--print-value-only"}
}

// Get returns the raw value stored at key, or an error wrapping fs.ErrNotExist.
func (e *Etcd) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := e.node.Exec(ctx, nil, "crictl", "ps", "--name", "^etcd$", "-q")
	if err != nil {
		return nil, fmt.Errorf("find the etcd container on %s: %w", e.node.Name(), err)
	}
	ids := strings.Fields(string(out))
	if len(ids) == 0 {
		return nil, fmt.Errorf("read etcd key %s: etcd is not running on %s (check /etc/kubernetes/manifests/etcd.yaml)", key, e.node.Name())
	}
	val, err := e.node.Exec(ctx, nil, append([]string{"crictl", "exec", ids[0]}, EtcdctlArgs(key)...)...)
	if err != nil {
		return nil, fmt.Errorf("read etcd key %s: %w", key, err)
	}
	if len(val) == 0 {
		return nil, fmt.Errorf("read etcd key %s: %w", key, fs.ErrNotExist)
	}
	// etcdctl terminates the value with one newline.
	return val[:len(val)-1], nil
}
