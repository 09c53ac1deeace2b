package kind

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ckslab/ckslab/engine/cluster"
)

// The CNIs a kind cluster can get.
const (
	// CNICalico is the default: the pinned Calico manifest, NetworkPolicy enforced.
	CNICalico = "calico"
	// CNIBridge is the plain CNI from the node image (bridge + host-local +
	// portmap, one pod subnet per node, routes between nodes): no download,
	// no NetworkPolicy enforcement.
	CNIBridge = "bridge"
)

// ensureNetwork installs the backend's CNI and waits for every node to be Ready.
func (b *Backend) ensureNetwork(ctx context.Context, c *cluster.Cluster, cp *Node, progress cluster.ProgressFunc) error {
	if b.cni == CNIBridge {
		if err := b.ensureBridge(ctx, c, cp, progress); err != nil {
			return err
		}
		if b.netpol == NetPolKubeRouter {
			return b.ensureKubeRouter(ctx, c, cp, progress)
		}
		return nil
	}
	return b.ensureCalico(ctx, cp, progress)
}

// dsArgs reads desired/ready/updated pods of a kube-system DaemonSet.
func dsArgs(name string) []string {
	return kubectlArgv("-n", "kube-system", "get", "daemonset", name,
		"-o=jsonpath={.status.desiredNumberScheduled}/{.status.numberReady}/{.status.updatedNumberScheduled}")
}

// nodesReadyArgs prints "name=True|False|Unknown" per node.
func nodesReadyArgs() []string {
	return kubectlArgv("get", "nodes",
		`-o=jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}`)
}

// ensureCalico applies the pinned Calico manifest (server-side, so re-applying
// is a no-op) and waits for calico-node and every node to be Ready.
func (b *Backend) ensureCalico(ctx context.Context, cp *Node, progress cluster.ProgressFunc) error {
	step := cluster.Step{ID: "cni", Title: "Install Calico " + b.calico.Version}
	progress.Report(step)
	manifest, err := b.cache.Get(ctx, b.calico)
	if err != nil {
		return err
	}
	if _, err := cp.Exec(ctx, bytes.NewReader(manifest), kubectlArgv("apply", "--server-side", "--force-conflicts", "-f", "-")...); err != nil {
		return fmt.Errorf("apply Calico %s: %w", b.calico.Version, err)
	}
	return b.waitNetworkReady(ctx, cp, "calico-node", step, progress)
}

// waitNetworkReady polls until every node is Ready and, when ds names a
// kube-system DaemonSet (calico-node, kube-router), until it is rolled out
// on every node; on timeout the error names what is still not ready.
func (b *Backend) waitNetworkReady(ctx context.Context, cp *Node, ds string, step cluster.Step, progress cluster.ProgressFunc) error {
	ctx, cancel := context.WithTimeout(ctx, b.readyTimeout)
	defer cancel()
	done, what, inspect := "all nodes Ready", "nodes not Ready", "describe nodes"
	if ds != "" {
		done, what, inspect = ds+" ready on all nodes; all nodes Ready", "cluster network not ready", "-n kube-system get pods -l k8s-app="+ds+" -o wide"
	}
	for {
		pending := b.networkPending(ctx, cp, ds)
		if len(pending) == 0 {
			step.Done, step.Line = true, done
			progress.Report(step)
			return nil
		}
		step.Line = "waiting: " + strings.Join(pending, "; ")
		progress.Report(step)
		select {
		case <-ctx.Done():
			err := fmt.Errorf("%s after %s: %s (inspect with: kubectl --kubeconfig %s %s)",
				what, b.readyTimeout, strings.Join(pending, "; "), b.KubeconfigPath(clusterNameOf(cp.Name())), inspect)
			step.Done, step.Err = true, err
			progress.Report(step)
			return err
		case <-time.After(b.poll):
		}
	}
}

// networkPending lists what is not ready yet (empty when all is ready).
func (b *Backend) networkPending(ctx context.Context, cp *Node, ds string) []string {
	var pending []string
	if ds != "" {
		out, err := cp.Exec(ctx, nil, dsArgs(ds)...)
		if err != nil {
			pending = append(pending, ds+" DaemonSet not readable yet")
		} else if msg := dsPending(ds, strings.TrimSpace(string(out))); msg != "" {
			pending = append(pending, msg)
		}
	}
	out, err := cp.Exec(ctx, nil, nodesReadyArgs()...)
	if err != nil {
		return append(pending, "nodes not readable yet")
	}
	var notReady []string
	for _, line := range nonEmptyLines(string(out)) {
		name, status, _ := strings.Cut(strings.TrimSpace(line), "=")
		if status != "True" {
			notReady = append(notReady, name)
		}
	}
	sort.Strings(notReady)
	if len(notReady) > 0 {
		pending = append(pending, "nodes not Ready: "+strings.Join(notReady, ", "))
	}
	return pending
}

// dsPending says what DaemonSet ds still lacks, from dsArgs' output ("" when rolled out).
func dsPending(ds, s string) string {
	parts := strings.Split(s, "/")
	if len(parts) != 3 {
		return ds + " status unknown (" + s + ")"
	}
	n := make([]int, 3)
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil {
			return ds + " status unknown (" + s + ")"
		}
		n[i] = v
	}
	desired, ready, updated := n[0], n[1], n[2]
	if desired == 0 || ready < desired || updated < desired {
		return fmt.Sprintf("%s %d/%d pods ready (%d updated)", ds, ready, desired, updated)
	}
	return ""
}

// clusterNameOf derives the cluster name from a kind node name
// ("<cluster>-control-plane", "<cluster>-worker2").
func clusterNameOf(node string) string {
	for _, suffix := range []string{"-control-plane", "-worker"} {
		if i := strings.LastIndex(node, suffix); i > 0 {
			return node[:i]
		}
	}
	return node
}
