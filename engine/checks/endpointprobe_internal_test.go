package checks

import (
	"context"
	"io"
	"io/fs"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/kube"
)

// probeNode answers Exec like the control-plane node of a kind cluster.
type probeNode struct {
	out   string
	err   error
	argvs [][]string
}

func (n *probeNode) Name() string { return "kr-control-plane" }
func (n *probeNode) Role() string { return cluster.RoleControlPlane }
func (n *probeNode) Exec(_ context.Context, _ io.Reader, argv ...string) ([]byte, error) {
	n.argvs = append(n.argvs, argv)
	return []byte(n.out), n.err
}
func (n *probeNode) ReadFile(context.Context, string) ([]byte, error)             { return nil, fs.ErrNotExist }
func (n *probeNode) WriteFile(context.Context, string, []byte, fs.FileMode) error { return nil }
func (n *probeNode) Remove(context.Context, string) error                         { return nil }
func (n *probeNode) Stat(context.Context, string) (fs.FileMode, error)            { return 0, fs.ErrNotExist }

type probeComponents struct{ st cluster.ComponentState }

func (c probeComponents) Component(context.Context, string) (cluster.ComponentState, error) {
	return c.st, nil
}
func (c probeComponents) WaitHealthy(context.Context, string, time.Duration) error { return nil }

// TestEndpointProbeInNode: on a backend whose nodes are containers (kind)
// the controller-manager's port is asked from inside the control-plane
// node; the verdict follows the status curl saw there, and no answer is an
// error, never a pass.
func TestEndpointProbeInNode(t *testing.T) {
	running := cluster.ComponentState{Name: "kube-controller-manager", Running: true,
		Args: []string{"kube-controller-manager", "--bind-address=127.0.0.1", "--secure-port=10257", "--profiling=false"}}
	spec := &v1alpha1.EndpointProbeCheck{Component: "kube-controller-manager", Path: "/debug/pprof/", RejectStatus: []int{200}}
	for _, tc := range []struct {
		name    string
		out     string
		err     error
		st      cluster.ComponentState
		spec    *v1alpha1.EndpointProbeCheck
		want    Status
		msg     string
		noExec  bool
		wantArg string
	}{
		{name: "profiling off: 404 passes", out: "404\n404 page not found", st: running, spec: spec, want: Pass, msg: "with 404", wantArg: "https://127.0.0.1:10257/debug/pprof/"},
		{name: "profiling on: 200 fails", out: "200\n<html>profiles", st: running, spec: spec, want: Fail, msg: "still answers the lab admin on /debug/pprof/ with 200 OK"},
		{name: "no answer is an error", out: "curl https://127.0.0.1:10257/debug/pprof/ failed (exit 7)", err: &cluster.ExitError{Code: 4, Output: []byte("curl failed (exit 7)")}, st: running, spec: spec, want: Error, msg: "in node kr-control-plane"},
		{name: "garbage is an error", out: "hello\n", st: running, spec: spec, want: Error, msg: "no HTTP status"},
		{name: "not running fails without asking", st: cluster.ComponentState{Name: "kube-controller-manager"}, spec: spec, want: Fail, msg: "is not running", noExec: true},
		{name: "secure-port and bind-address are followed", out: "403\nforbidden", st: cluster.ComponentState{Running: true, Args: []string{"kube-controller-manager", "--secure-port=10999", "--bind-address=10.0.0.5"}},
			spec: &v1alpha1.EndpointProbeCheck{Component: "kube-controller-manager", Path: "/debug/pprof/", Anonymous: true, ExpectStatus: []int{401, 403}}, want: Pass, wantArg: "https://10.0.0.5:10999/debug/pprof/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := &probeNode{out: tc.out, err: tc.err}
			env := &Env{Kube: &kube.Client{Config: &rest.Config{Host: "https://127.0.0.1:6443"}},
				Cluster: &cluster.Cluster{Name: "kr", Backend: "kind", Facts: cluster.Facts{NodeIsolated: true}, Nodes: []cluster.Node{n}, Components: probeComponents{tc.st}}}
			o := endpointProbe{tc.spec}.run(context.Background(), env)
			if o.status != tc.want || !strings.Contains(o.msg, tc.msg) {
				t.Fatalf("got %s %q, want %s containing %q", o.status, o.msg, tc.want, tc.msg)
			}
			if tc.noExec {
				if len(n.argvs) != 0 {
					t.Fatalf("asked the node %v", n.argvs)
				}
				return
			}
			if len(n.argvs) != 1 {
				t.Fatalf("node asked %d times, want once", len(n.argvs))
			}
			argv := n.argvs[0]
			if argv[0] != "sh" || argv[len(argv)-1] != tc.spec.Path && !strings.HasSuffix(argv[len(argv)-1], tc.spec.Path) {
				t.Fatalf("argv %q", argv)
			}
			if tc.wantArg != "" && argv[len(argv)-1] != tc.wantArg {
				t.Fatalf("URL %q, want %q", argv[len(argv)-1], tc.wantArg)
			}
			who := argv[len(argv)-2]
			if (who == "anonymous") != tc.spec.Anonymous {
				t.Fatalf("credentials %q for anonymous=%v", who, tc.spec.Anonymous)
			}
		})
	}
}
