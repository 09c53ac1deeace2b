package kind

import (
	"strings"
	"testing"
)

func TestPlanRemoveAddon(t *testing.T) {
	kc := "kubectl --kubeconfig=/etc/kubernetes/admin.conf "
	del := kc + "delete --ignore-not-found --wait --timeout=300s -f -"
	gk, err := PlanRemoveAddon(AddonGatekeeper, PlanInput{Manifest: []byte("gk-manifest")})
	if err != nil {
		t.Fatal(err)
	}
	if len(gk) != 2 {
		t.Fatalf("gatekeeper removal: %d actions, want webhooks then the manifest", len(gk))
	}
	if got := strings.Join(gk[0].Argv, " "); !strings.Contains(got, "delete --ignore-not-found validatingwebhookconfiguration/gatekeeper-validating-webhook-configuration mutatingwebhookconfiguration/gatekeeper-mutating-webhook-configuration") {
		t.Errorf("first action %q must delete both webhook configurations (no request may reach a webhook being removed)", got)
	}
	if got := strings.Join(gk[1].Argv, " "); got != del || string(gk[1].Stdin) != "gk-manifest" {
		t.Errorf("second action = %q stdin %q, want %q with the release manifest", got, gk[1].Stdin, del)
	}
	if _, err := PlanRemoveAddon(AddonGatekeeper, PlanInput{}); err == nil {
		t.Error("gatekeeper removal without its manifest must fail, not delete nothing silently")
	}
	fa, err := PlanRemoveAddon(AddonFalco, PlanInput{})
	if err != nil || len(fa) != 1 || strings.Join(fa[0].Argv, " ") != del || string(fa[0].Stdin) != falcoManifest() {
		t.Errorf("falco removal = %+v, %v; want one delete of its manifest", fa, err)
	}
	for _, a := range []string{AddonGVisor, AddonAppArmor} {
		if acts, err := PlanRemoveAddon(a, PlanInput{}); err != nil || len(acts) != 0 {
			t.Errorf("%s removal = %v, %v; want nothing (node software is inert)", a, acts, err)
		}
	}
	if _, err := PlanRemoveAddon("nope", PlanInput{}); err == nil {
		t.Error("unknown add-on accepted")
	}
}
