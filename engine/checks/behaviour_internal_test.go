package checks

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/kube"
)

func runningPod(name, node string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "web", Labels: labels},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "app"}, {Name: "side"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.9", ContainerStatuses: []corev1.ContainerStatus{
			{Name: "app", ContainerID: "containerd://c-" + name, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}},
			{Name: "side", ContainerID: "containerd://s-" + name, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}},
	}
}

func pendingPod(name string, labels map[string]string, reason string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "web", Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
		Status: corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{
			{Name: "app", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}}}},
	}
}

func workloadsEnv(nodes []cluster.Node, objs ...*corev1.Pod) *Env {
	cs := fake.NewClientset()
	for _, o := range objs {
		_, _ = cs.CoreV1().Pods(o.Namespace).Create(context.Background(), o, metav1.CreateOptions{})
	}
	return &Env{
		Kube:    &kube.Client{Config: &rest.Config{Host: "https://127.0.0.1:6443"}, Typed: cs},
		Cluster: &cluster.Cluster{Name: "bh", Backend: "kind", Nodes: nodes, Capabilities: cluster.NewCapabilities(v1alpha1.CapAPI, v1alpha1.CapWorkloads)},
	}
}

// fakeExec answers per pod name and records where it ran.
type fakeExec struct {
	res   map[string]execResult
	err   error
	where []string
}

func (f *fakeExec) exec(_ context.Context, _ *Env, pod *corev1.Pod, c string, argv []string) (execResult, error) {
	f.where = append(f.where, pod.Name+"/"+c+":"+strings.Join(argv, " "))
	return f.res[pod.Name], f.err
}

func intp(i int) *int { return &i }

// TestPodExec: the command runs in the chosen container of every running
// pod selected, each must match; nothing running fails with what the pods
// do instead; an exec that cannot run is an error, never a pass.
func TestPodExec(t *testing.T) {
	app := map[string]string{"app": "api"}
	roWrite := &v1alpha1.PodExecCheck{Namespace: "web", Selector: "app=api", Command: []string{"touch", "/x"}, ExitNonZero: true, StderrMatches: "Read-only file system"}
	for _, tc := range []struct {
		name  string
		spec  *v1alpha1.PodExecCheck
		pods  []*corev1.Pod
		res   map[string]execResult
		err   error
		want  Status
		msg   string
		execs int
	}{
		{name: "read-only root: write refused passes", spec: roWrite, pods: []*corev1.Pod{runningPod("a", "n1", app)},
			res: map[string]execResult{"a": {code: 1, stderr: "touch: /x: Read-only file system\n"}}, want: Pass, msg: "in 1 running pod(s)", execs: 1},
		{name: "writable root: write succeeds fails", spec: roWrite, pods: []*corev1.Pod{runningPod("a", "n1", app)},
			res: map[string]execResult{"a": {code: 0}}, want: Fail, msg: "exited 0, expected a failure", execs: 1},
		{name: "refused for another reason fails", spec: roWrite, pods: []*corev1.Pod{runningPod("a", "n1", app)},
			res: map[string]execResult{"a": {code: 1, stderr: "touch: /x: Permission denied"}}, want: Fail, msg: "does not match Read-only file system", execs: 1},
		{name: "every pod must match", spec: roWrite, pods: []*corev1.Pod{runningPod("a", "n1", app), runningPod("b", "n1", app)},
			res: map[string]execResult{"a": {code: 1, stderr: "Read-only file system"}, "b": {code: 0}}, want: Fail, msg: "web/b (container app): exited 0", execs: 2},
		{name: "no running pod fails with the reason", spec: roWrite, pods: []*corev1.Pod{pendingPod("a", app, "ImagePullBackOff")},
			want: Fail, msg: "web/a: Pending, ImagePullBackOff"},
		{name: "nothing selected fails", spec: roWrite, want: Fail, msg: "matches none"},
		{name: "named pod missing fails", spec: &v1alpha1.PodExecCheck{Namespace: "web", Name: "gone", Command: []string{"id", "-u"}}, want: Fail, msg: "pod web/gone does not exist"},
		{name: "exec error is an error", spec: roWrite, pods: []*corev1.Pod{runningPod("a", "n1", app)}, err: errors.New("unable to upgrade connection"), want: Error, msg: "unable to upgrade connection", execs: 1},
		{name: "container and stdout: id -u not 0", spec: &v1alpha1.PodExecCheck{Namespace: "web", Name: "a", Container: "side", Command: []string{"id", "-u"}, StdoutMatches: `^[1-9][0-9]*\s*$`},
			pods: []*corev1.Pod{runningPod("a", "n1", app)}, res: map[string]execResult{"a": {stdout: "0\n"}}, want: Fail, msg: `stdout "0" does not match`, execs: 1},
		{name: "seccomp mode 2", spec: &v1alpha1.PodExecCheck{Namespace: "web", Selector: "app=api", Command: []string{"grep", "Seccomp:", "/proc/1/status"}, StdoutMatches: `Seccomp:\s+2`},
			pods: []*corev1.Pod{runningPod("a", "n1", app)}, res: map[string]execResult{"a": {stdout: "Seccomp:\t2\n"}}, want: Pass, execs: 1},
		{name: "exact exit code", spec: &v1alpha1.PodExecCheck{Namespace: "web", Selector: "app=api", Command: []string{"false"}, ExitCode: intp(2)},
			pods: []*corev1.Pod{runningPod("a", "n1", app)}, res: map[string]execResult{"a": {code: 1}}, want: Fail, msg: "exited 1, expected 2", execs: 1},
		{name: "stdout must not match", spec: &v1alpha1.PodExecCheck{Namespace: "web", Selector: "app=api", Command: []string{"dmesg"}, StdoutNotMatches: `gVisor`},
			pods: []*corev1.Pod{runningPod("a", "n1", app)}, res: map[string]execResult{"a": {stdout: "Starting gVisor..."}}, want: Fail, msg: "matches gVisor", execs: 1},
		{name: "missing container fails", spec: &v1alpha1.PodExecCheck{Namespace: "web", Name: "a", Container: "nope", Command: []string{"true"}},
			pods: []*corev1.Pod{runningPod("a", "n1", app)}, want: Fail, msg: `has no container "nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			im, err := newPodExec(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			fe := &fakeExec{res: tc.res, err: tc.err}
			im.(*podExec).exec = fe.exec
			o := im.run(context.Background(), workloadsEnv(nil, tc.pods...))
			if o.status != tc.want || !strings.Contains(o.msg, tc.msg) {
				t.Fatalf("got %s %q (evidence %q), want %s containing %q", o.status, o.msg, o.evidence, tc.want, tc.msg)
			}
			if len(fe.where) != tc.execs {
				t.Fatalf("ran %d times (%q), want %d", len(fe.where), fe.where, tc.execs)
			}
			if tc.spec.Container != "" && len(fe.where) > 0 && !strings.HasPrefix(fe.where[0], "a/"+tc.spec.Container+":") {
				t.Fatalf("ran in %q, want container %s", fe.where[0], tc.spec.Container)
			}
		})
	}
}

func TestRemoteExit(t *testing.T) {
	code, rest, ok := remoteExit("touch: /x: Read-only file system\ncommand terminated with exit code 1\n")
	if !ok || code != 1 || rest != "touch: /x: Read-only file system\n" {
		t.Fatalf("got %d %q %v", code, rest, ok)
	}
	if _, _, ok := remoteExit("error: unable to upgrade connection: container not found (\"x\")\n"); ok {
		t.Fatal("kubectl's own error taken for the remote status")
	}
	// The remote command printing the phrase mid-output is not the marker.
	if _, _, ok := remoteExit("command terminated with exit code 3\nmore\n"); ok {
		t.Fatal("a mid-output line taken for the remote status")
	}
}

// crictlNode answers crictl inspect / inspectp like a containerd node.
type crictlNode struct {
	name, inspect, inspectp string
	argvs                   [][]string
}

func (n *crictlNode) Name() string { return n.name }
func (n *crictlNode) Role() string { return cluster.RoleWorker }
func (n *crictlNode) Exec(_ context.Context, _ io.Reader, argv ...string) ([]byte, error) {
	n.argvs = append(n.argvs, argv)
	if len(argv) > 1 && argv[1] == "inspectp" {
		return []byte(n.inspectp), nil
	}
	return []byte(n.inspect), nil
}
func (n *crictlNode) ReadFile(context.Context, string) ([]byte, error)             { return nil, fs.ErrNotExist }
func (n *crictlNode) WriteFile(context.Context, string, []byte, fs.FileMode) error { return nil }
func (n *crictlNode) Remove(context.Context, string) error                         { return nil }
func (n *crictlNode) Stat(context.Context, string) (fs.FileMode, error)            { return 0, fs.ErrNotExist }

// TestRuntimeHandler: the handler is read from the sandbox of the pod's
// running container on its own node; runc where runsc is asked fails,
// whatever the pod spec says.
func TestRuntimeHandler(t *testing.T) {
	spec := &v1alpha1.RuntimeHandlerCheck{Namespace: "web", Selector: "app=sandboxed", Handler: "runsc"}
	labels := map[string]string{"app": "sandboxed"}
	inspect := `{"status": {"id": "c-a"}, "info": {"sandboxID": "sb-1", "pid": 42}}`
	for _, tc := range []struct {
		name, inspectp string
		want           Status
		msg            string
	}{
		{"runsc passes", `{"status": {"id": "sb-1", "runtimeHandler": "runsc"}, "info": {"runtimeHandler": "runsc", "runtimeType": "io.containerd.runsc.v1"}}`, Pass, "really run under runtime handler runsc"},
		{"containerd 1.6 info only", `{"status": {"id": "sb-1"}, "info": {"runtimeHandler": "runsc", "runtimeType": "io.containerd.runsc.v1"}}`, Pass, "runsc"},
		{"default runc fails", `{"status": {"id": "sb-1", "runtimeHandler": ""}, "info": {"runtimeType": "io.containerd.runc.v2"}}`, Fail, "web/a runs under the default handler, not runsc"},
		{"garbage errors", `not json`, Error, "not JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := &crictlNode{name: "bh-worker", inspect: inspect, inspectp: tc.inspectp}
			env := workloadsEnv([]cluster.Node{&crictlNode{name: "bh-control-plane"}, n}, runningPod("a", "bh-worker", labels))
			env.Cluster.Facts.NodeIsolated = true
			o := runtimeHandler{spec}.run(context.Background(), env)
			if o.status != tc.want || !strings.Contains(o.msg, tc.msg) {
				t.Fatalf("got %s %q %q, want %s containing %q", o.status, o.msg, o.evidence, tc.want, tc.msg)
			}
			if len(n.argvs) == 0 || n.argvs[0][0] != "crictl" || n.argvs[0][len(n.argvs[0])-1] != "c-a" {
				t.Fatalf("asked the node %q, want crictl inspect of the pod's container c-a", n.argvs)
			}
			if tc.want != Error && n.argvs[1][len(n.argvs[1])-1] != "sb-1" {
				t.Fatalf("inspectp of %q, want the container's sandbox sb-1", n.argvs[1])
			}
		})
	}
	// A pod that never started (a handler the node lacks) fails.
	env := workloadsEnv(nil, pendingPod("a", labels, "ContainerCreating"))
	if o := (runtimeHandler{spec}).run(context.Background(), env); o.status != Fail || !strings.Contains(o.msg, "ContainerCreating") {
		t.Fatalf("got %s %q", o.status, o.msg)
	}
}

// TestNotJudgedHere: a behaviour check on a cluster without the
// capabilities it needs is skipped with the reason, never passed, and its
// implementation does not run.
func TestNotJudgedHere(t *testing.T) {
	local := &cluster.Cluster{Name: "bh", Backend: "local", Capabilities: cluster.NewCapabilities(v1alpha1.CapAPI),
		Facts: cluster.Facts{Provides: cluster.NewCapabilities(v1alpha1.CapAPI), Elsewhere: "run with --backend kind"}}
	bridge := &cluster.Cluster{Name: "bh", Backend: "kind", Capabilities: cluster.NewCapabilities(v1alpha1.CapAPI, v1alpha1.CapWorkloads),
		Facts: cluster.Facts{NodeIsolated: true, Provides: cluster.NewCapabilities(v1alpha1.CapAPI, v1alpha1.CapWorkloads, v1alpha1.CapNetpol, v1alpha1.CapGVisor),
			Needs: map[cluster.Capability]string{v1alpha1.CapNetpol: "the Calico CNI", v1alpha1.CapGVisor: "runsc on the nodes"}}}
	exec := v1alpha1.Check{ID: "ro", Objective: "x", PodExec: &v1alpha1.PodExecCheck{Namespace: "web", Selector: "app=a", Command: []string{"true"}}}
	conn := v1alpha1.Check{ID: "c", Objective: "x", Connectivity: &v1alpha1.ConnectivityCheck{From: v1alpha1.PodRef{Namespace: "web", Selector: "app=a"}, To: "db:1", Expect: "blocked"}}
	gv := v1alpha1.Check{ID: "g", Objective: "x", Requires: []v1alpha1.Capability{v1alpha1.CapGVisor},
		RuntimeHandler: &v1alpha1.RuntimeHandlerCheck{Namespace: "web", Selector: "app=a", Handler: "runsc"}}
	for _, tc := range []struct {
		name string
		c    *cluster.Cluster
		spec v1alpha1.Check
		msg  string
	}{
		{"podExec on local", local, exec, "needs workloads, which this local cluster lacks: run with --backend kind"},
		{"connectivity on kind+bridge", bridge, conn, "needs netpol, which this kind cluster lacks (netpol needs the Calico CNI)"},
		{"runtimeHandler without gvisor", bridge, gv, "needs gvisor, which this kind cluster lacks (gvisor needs runsc on the nodes)"},
		{"runtimeHandler on local", local, gv, "needs workloads and gvisor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Compile([]v1alpha1.Check{tc.spec})
			if err != nil {
				t.Fatal(err)
			}
			// No Kube client: had the check run, it would have errored.
			r := s.Checks()[0].Run(context.Background(), &Env{Cluster: tc.c})
			if r.Status != Skip || !strings.HasPrefix(r.Message, NotJudgedPrefix) || !strings.Contains(r.Message, tc.msg) {
				t.Fatalf("got %s %q, want skip containing %q", r.Status, r.Message, tc.msg)
			}
			if sum := Summarize([]Result{r}); sum.Score != 0 || sum.AllPassed() {
				t.Fatalf("a not-judged objective scored: %+v", sum)
			}
		})
	}
	// With what it needs the check runs (and here errors: no API client).
	s, _ := Compile([]v1alpha1.Check{exec})
	if r := s.Checks()[0].Run(context.Background(), &Env{Cluster: bridge}); r.Status != Error {
		t.Fatalf("podExec with workloads: got %s %q, want it to run", r.Status, r.Message)
	}
}
