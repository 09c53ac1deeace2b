package kind

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/ckslab/ckslab/engine/cluster"
)

// bridgeConfPath is where the bridge CNI config is written in each node.
const bridgeConfPath = "/etc/cni/net.d/10-ckslab-bridge.conflist"

// BridgeConflist is the CNI config of a node whose pods get addresses from
// podCIDR: Linux bridge cni0 as their gateway, NAT for traffic leaving the
// pod network, hostPort through portmap.
func BridgeConflist(podCIDR string) string {
	return `{
  "cniVersion": "0.4.0",
  "name": "ckslab-bridge",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "` + podCIDR + `"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
`
}

// nodeNet is one node's pod subnet and address, as the API reports them.
type nodeNet struct{ name, podCIDR, ip string }

func nodeNetsArgs() []string {
	return kubectlArgv("get", "nodes",
		`-o=jsonpath={range .items[*]}{.metadata.name} {.spec.podCIDR} {.status.addresses[?(@.type=="InternalIP")].address}{"\n"}{end}`)
}

// parseNodeNets reads nodeNetsArgs' output; ok is false while a node has no
// pod CIDR or address yet (the controller-manager allocates them).
func parseNodeNets(out string) (nets []nodeNet, ok bool, err error) {
	ok = true
	for _, line := range nonEmptyLines(out) {
		f := strings.Fields(line)
		if len(f) != 3 {
			ok = false
			continue
		}
		if _, _, err := net.ParseCIDR(f[1]); err != nil {
			return nil, false, fmt.Errorf("node %s: pod CIDR %q: %w", f[0], f[1], err)
		}
		if net.ParseIP(f[2]) == nil {
			return nil, false, fmt.Errorf("node %s: address %q is not an IP", f[0], f[2])
		}
		nets = append(nets, nodeNet{f[0], f[1], f[2]})
	}
	sort.Slice(nets, func(i, j int) bool { return nets[i].name < nets[j].name })
	return nets, ok && len(nets) > 0, nil
}

// ensureBridge writes each node's bridge CNI config for its pod CIDR, routes
// every other node's pod CIDR through that node, then waits for the nodes to
// be Ready. Idempotent (configs are rewritten, routes replaced).
func (b *Backend) ensureBridge(ctx context.Context, c *cluster.Cluster, cp *Node, progress cluster.ProgressFunc) error {
	step := cluster.Step{ID: "cni", Title: "Configure the bridge CNI (no NetworkPolicy enforcement)"}
	progress.Report(step)
	wctx, cancel := context.WithTimeout(ctx, b.readyTimeout)
	defer cancel()
	var nets []nodeNet
	for {
		out, err := cp.Exec(wctx, nil, nodeNetsArgs()...)
		if err == nil {
			var ok bool
			if nets, ok, err = parseNodeNets(string(out)); err != nil {
				return err
			} else if ok && len(nets) == len(c.Nodes) {
				break
			}
		}
		select {
		case <-wctx.Done():
			err := fmt.Errorf("nodes have no pod CIDR after %s (is the controller-manager running with --allocate-node-cidrs? check `ckslab cluster status`)", b.readyTimeout)
			step.Done, step.Err = true, err
			progress.Report(step)
			return err
		case <-time.After(b.poll):
		}
	}
	for _, n := range nets {
		node, err := c.Node(n.name)
		if err != nil {
			return err
		}
		script := "set -e; umask 022; mkdir -p /etc/cni/net.d; cat >" + bridgeConfPath + ".tmp; mv -f " + bridgeConfPath + ".tmp " + bridgeConfPath
		for _, o := range nets {
			if o.name != n.name {
				script += "; ip route replace " + o.podCIDR + " via " + o.ip
			}
		}
		if _, err := node.Exec(ctx, strings.NewReader(BridgeConflist(n.podCIDR)), "sh", "-c", script); err != nil {
			return fmt.Errorf("configure the bridge CNI on node %s: %w", n.name, err)
		}
	}
	return b.waitNetworkReady(ctx, cp, "", step, progress)
}
