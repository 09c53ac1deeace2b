package checks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/cluster"
)

// runtimeHandler reads, on each selected pod's node, the runtime handler
// the container runtime started the pod's sandbox with: what really runs
// the pod, not what its spec asks for.
type runtimeHandler struct{ spec *v1alpha1.RuntimeHandlerCheck }

// sandboxRuntime is what crictl says about a pod sandbox.
type sandboxRuntime struct {
	Handler string // CRI runtime handler, e.g. runsc
	Type    string // containerd runtime type, e.g. io.containerd.runsc.v1
}

func (c runtimeHandler) run(ctx context.Context, env *Env) outcome {
	pods, o := runningPods(ctx, env, c.spec.Namespace, c.spec.Selector, c.spec.Name, "")
	if o != nil {
		return *o
	}
	if err := cluster.CheckHostExec(env.Cluster, env.Trusted, env.AllowHostExec); err != nil {
		return skipped(err.Error())
	}
	var bad, ev []string
	for i := range pods {
		pod := &pods[i]
		where := pod.Namespace + "/" + pod.Name
		rt, err := podSandboxRuntime(ctx, env, pod)
		if err != nil {
			return errored("read the runtime of %s on node %s: %s", where, pod.Spec.NodeName, sentence(err.Error()))
		}
		asked := "no runtimeClassName"
		if pod.Spec.RuntimeClassName != nil {
			asked = "runtimeClassName " + *pod.Spec.RuntimeClassName
		}
		ev = append(ev, fmt.Sprintf("%s on node %s (%s): runtime handler %q, runtime type %s", where, pod.Spec.NodeName, asked, rt.Handler, rt.Type))
		if rt.Handler != c.spec.Handler {
			got := rt.Handler
			if got == "" {
				got = "the default handler"
			}
			bad = append(bad, fmt.Sprintf("%s runs under %s", where, got))
		}
	}
	ev = append(ev, "expected: runtime handler "+c.spec.Handler)
	if len(bad) > 0 {
		return failed(fmt.Sprintf("%s, not %s", strings.Join(bad, "; "), c.spec.Handler), ev...)
	}
	return passed(fmt.Sprintf("%d running pod(s) really run under runtime handler %s", len(pods), c.spec.Handler), ev...)
}

// podSandboxRuntime asks crictl on the pod's node which sandbox runs the
// pod's first running container and with which runtime.
func podSandboxRuntime(ctx context.Context, env *Env, pod *corev1.Pod) (sandboxRuntime, error) {
	if env.Cluster == nil {
		return sandboxRuntime{}, errors.New("no cluster is running")
	}
	node, err := env.Cluster.Node(pod.Spec.NodeName)
	if err != nil {
		return sandboxRuntime{}, err
	}
	var cid string
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.State.Running != nil && cs.ContainerID != "" {
			cid = cs.ContainerID
			break
		}
	}
	if i := strings.Index(cid, "://"); i >= 0 {
		cid = cid[i+3:]
	}
	if cid == "" {
		return sandboxRuntime{}, errors.New("the pod reports no running container id")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := node.Exec(ctx, nil, "crictl", "inspect", "-o", "json", cid)
	if err != nil {
		return sandboxRuntime{}, fmt.Errorf("crictl inspect %s: %w", cid, err)
	}
	var ci struct {
		Info struct {
			SandboxID string `json:"sandboxID"`
		} `json:"info"`
	}
	if err := json.Unmarshal(out, &ci); err != nil || ci.Info.SandboxID == "" {
		return sandboxRuntime{}, fmt.Errorf("crictl inspect %s gave no sandbox id: %s", cid, truncate(strings.TrimSpace(string(out)), 200))
	}
	out, err = node.Exec(ctx, nil, "crictl", "inspectp", "-o", "json", ci.Info.SandboxID)
	if err != nil {
		return sandboxRuntime{}, fmt.Errorf("crictl inspectp %s: %w", ci.Info.SandboxID, err)
	}
	return parseInspectp(out)
}

// parseInspectp reads the runtime handler and type of `crictl inspectp -o
// json`: status.runtimeHandler (CRI) or info.runtimeHandler (containerd).
func parseInspectp(out []byte) (sandboxRuntime, error) {
	var sp struct {
		Status struct {
			RuntimeHandler string `json:"runtimeHandler"`
		} `json:"status"`
		Info struct {
			RuntimeHandler string `json:"runtimeHandler"`
			RuntimeType    string `json:"runtimeType"`
		} `json:"info"`
	}
	if err := json.Unmarshal(out, &sp); err != nil {
		return sandboxRuntime{}, fmt.Errorf("crictl inspectp output is not JSON: %v", err)
	}
	rt := sandboxRuntime{Handler: sp.Status.RuntimeHandler, Type: sp.Info.RuntimeType}
	if rt.Handler == "" {
		rt.Handler = sp.Info.RuntimeHandler
	}
	if rt.Type == "" {
		return rt, errors.New("crictl inspectp names no runtime type (is the node's runtime containerd?)")
	}
	return rt, nil
}
