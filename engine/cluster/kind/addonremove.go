package kind

import (
	"context"
	"fmt"
	"strings"

	"github.com/ckslab/ckslab/engine/cluster"
)

// PlanRemoveAddon returns the commands that take addon out of a cluster
// again, idempotently (nothing installed, nothing done):
//   - gatekeeper: its webhook configurations first (so no request is sent to
//     a webhook that is going away), then every object of the release
//     manifest, waiting until they are gone;
//   - falco: the DaemonSet manifest it was deployed from;
//   - gvisor, apparmor: nothing. They are node software (runsc and its shim,
//     apparmor_parser) and the gvisor RuntimeClass, which change nothing a
//     pod does unless it asks for them.
func PlanRemoveAddon(addon string, in PlanInput) ([]Action, error) {
	switch addon {
	case AddonGatekeeper:
		if len(in.Manifest) == 0 {
			return nil, fmt.Errorf("plan gatekeeper removal: the release manifest was not fetched")
		}
		return []Action{
			{Title: "Remove Gatekeeper's webhooks", Argv: kubectlArgv("delete", "--ignore-not-found",
				"validatingwebhookconfiguration/gatekeeper-validating-webhook-configuration",
				"mutatingwebhookconfiguration/gatekeeper-mutating-webhook-configuration")},
			deleteAction("Remove Gatekeeper "+GatekeeperVersion, in.Manifest),
		}, nil
	case AddonFalco:
		return []Action{deleteAction("Remove Falco", []byte(falcoManifest()))}, nil
	case AddonGVisor, AddonAppArmor:
		return nil, nil
	}
	return nil, fmt.Errorf("unknown add-on %q (have: %s)", addon, strings.Join(Addons(), ", "))
}

func deleteAction(title string, manifest []byte) Action {
	return Action{Title: title, Argv: kubectlArgv("delete", "--ignore-not-found", "--wait", "--timeout=300s", "-f", "-"), Stdin: manifest}
}

// RemoveAddon implements cluster.AddonRemover.
func (b *Backend) RemoveAddon(ctx context.Context, c *cluster.Cluster, addon string, progress cluster.ProgressFunc) error {
	in := PlanInput{Facts: ReadHostFacts(b.readHostFile), Source: b.addonSource}
	if addon == AddonGatekeeper {
		m, err := b.gatekeeperManifest(ctx, c)
		if err != nil {
			return err
		}
		in.Manifest = m
	}
	actions, err := PlanRemoveAddon(addon, in)
	if err != nil || len(actions) == 0 {
		return err
	}
	return b.runActions(ctx, c, progress, "remove-addon-"+addon, actions)
}
