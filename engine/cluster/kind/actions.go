package kind

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/ckslab/ckslab/engine/cluster"
)

// runActions executes planned actions, reporting each as a step.
func (b *Backend) runActions(ctx context.Context, c *cluster.Cluster, progress cluster.ProgressFunc, id string, actions []Action) error {
	for _, a := range actions {
		n, err := c.Node(a.Node)
		if err != nil {
			return err
		}
		step := cluster.Step{ID: id, Title: a.Title}
		progress.Report(step)
		var stdin io.Reader // stays a nil interface when there is no input
		if a.Stdin != nil {
			stdin = bytes.NewReader(a.Stdin)
		}
		out, err := n.Exec(ctx, stdin, a.Argv...)
		step.Done = true
		if lines := nonEmptyLines(string(out)); len(lines) > 0 {
			step.Line = lines[len(lines)-1]
		}
		if err != nil {
			step.Err = fmt.Errorf("%s on %s: %w", a.Title, n.Name(), err)
			progress.Report(step)
			return step.Err
		}
		progress.Report(step)
	}
	return nil
}

// EnsureAddon installs an add-on idempotently (gatekeeper, gvisor, apparmor, falco).
func (b *Backend) EnsureAddon(ctx context.Context, c *cluster.Cluster, addon string, progress cluster.ProgressFunc) error {
	in := PlanInput{Facts: ReadHostFacts(b.readHostFile), Source: b.addonSource}
	for _, n := range c.Nodes {
		in.Nodes = append(in.Nodes, NodeInfo{Name: n.Name(), Role: n.Role()})
	}
	if addon == AddonGatekeeper {
		m, err := b.gatekeeperManifest(ctx, c)
		if err != nil {
			return err
		}
		in.Manifest = m
	}
	actions, err := PlanAddon(addon, in)
	if err != nil {
		return err
	}
	err = b.runActions(ctx, c, progress, "addon-"+addon, actions)
	if rerr := b.recordAddon(c, addon, err); rerr != nil && err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("install add-on %s: %w", addon, err)
	}
	return nil
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
