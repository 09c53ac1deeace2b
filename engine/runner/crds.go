package runner

import (
	"context"

	"github.com/ckslab/ckslab/engine/crds"
	"github.com/ckslab/ckslab/engine/kube"
	"github.com/ckslab/ckslab/engine/load"
)

// installCRDs installs the third-party CRD bundles s names in
// spec.cluster.crds (pinned, checksummed files; see engine/crds). They are
// cluster furniture like an add-on: not tracked, so reset keeps them.
func (r *Runner) installCRDs(ctx context.Context, s *load.Scenario, k *kube.Client) error {
	if s.Spec.Cluster == nil {
		return nil
	}
	for _, name := range s.Spec.Cluster.CRDs {
		b, err := crds.Lookup(name)
		if err != nil {
			return err
		}
		data, from, err := crds.Source{}.Get(ctx, b)
		if err != nil {
			return err
		}
		r.line("setup")("CRDs " + b.Name + " " + b.Version + " from " + from)
		if err := crds.Install(ctx, k, b, data); err != nil {
			return err
		}
	}
	return nil
}
