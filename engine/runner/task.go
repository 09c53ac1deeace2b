package runner

import (
	"context"
	"errors"
	"fmt"

	"github.com/ckslab/ckslab/engine/cluster"
)

// StartOnRunning is Start for a scenario seeded next to other labs on a
// cluster that is already up (an exam's later tasks): it refuses what the
// cluster cannot honestly run, undoes only this runner's previous lab, and
// does not bring the cluster up again, whose readiness wait would judge
// the other labs' seeded misconfigurations (a task that slows the
// controller-manager must not stall the next task's start). A scenario
// that asks for a cluster variant or add-ons still goes through the
// backend's Up, which installs them.
func (r *Runner) StartOnRunning(ctx context.Context, id string) (*Lab, error) {
	s, err := r.Catalog.Get(id)
	if err != nil {
		return nil, err
	}
	if s.Spec.Cluster != nil {
		return r.Start(ctx, id)
	}
	if why := MissingCapabilities(s, r.Backend, r.Backend.Capabilities(ctx)); why != "" {
		return nil, errors.New(why)
	}
	cl, err := r.Backend.Get(ctx, r.clusterName())
	if errors.Is(err, cluster.ErrNotFound) {
		return r.Start(ctx, id)
	}
	if err != nil {
		return nil, fmt.Errorf("cluster %s (%s backend): %w", r.clusterName(), r.Backend.Name(), err)
	}
	if why := MissingCapabilities(s, r.Backend, cl.Capabilities); why != "" && cl.Capabilities != nil {
		return nil, errors.New(why)
	}
	return r.seedOn(ctx, s, cl)
}
