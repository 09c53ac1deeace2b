package runner

import (
	"context"
	"fmt"
	"slices"

	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/load"
)

// What a lab leaves when it ends, beyond its tracked objects and files:
// the add-ons its scenario asked for, and the learner's answer files.

// removeAddons takes out the add-ons the lab's scenario asked for (newest
// first), where the backend installs add-ons: a lab leaves the cluster as
// it found it. Gatekeeper left behind would judge every later lab's
// requests, and deny them while a restarted API server serves its
// start-up certificate. An exam's tasks share one cluster and are undone
// together at its end, so the last task's undo must not pull an add-on out
// from under an earlier task's objects: exam runners keep them.
func (r *Runner) removeAddons(ctx context.Context, s *load.Scenario, cl *cluster.Cluster, keep []string) error {
	rm, ok := r.Backend.(cluster.AddonRemover)
	if !ok || r.SharedCluster {
		return nil
	}
	addons := addonsOf(s)
	for i := len(addons) - 1; i >= 0; i-- {
		if slices.Contains(keep, addons[i]) {
			continue
		}
		err := rm.RemoveAddon(ctx, cl, addons[i], func(st cluster.Step) {
			if st.Done && st.Err == nil {
				r.emit(Event{Kind: StepLine, Step: "reset", Line: st.Title})
			}
		})
		if err != nil {
			return fmt.Errorf("remove add-on %s that %s installed: %w", addons[i], s.ID, err)
		}
	}
	return nil
}

func addonsOf(s *load.Scenario) []string {
	if s == nil || s.Spec.Cluster == nil {
		return nil
	}
	return s.Spec.Cluster.Addons
}

// RemoveAddons takes out the add-ons scenario id asked for, on a cluster
// where no lab runs any more (validate calls it once all trials of id are
// done; they keep the add-ons from one trial to the next).
func (r *Runner) RemoveAddons(ctx context.Context, id string) error {
	s, err := r.Catalog.Get(id)
	if err != nil || len(addonsOf(s)) == 0 {
		return err
	}
	cl, err := r.Backend.Get(ctx, r.clusterName())
	if err != nil {
		return err
	}
	return r.removeAddons(ctx, s, cl, nil)
}

// clearAnswerFiles removes the files the scenario's answerFile checks
// read before seeding: they are the learner's output, which no backup
// restores, so an earlier attempt's answer (or a validated fix's) would
// otherwise score in the fresh lab.
func clearAnswerFiles(ctx context.Context, s *load.Scenario, cl *cluster.Cluster) error {
	for _, c := range s.Spec.Checks {
		a := c.AnswerFile
		if a == nil {
			continue
		}
		n, err := cl.Node(a.Node)
		if err != nil {
			return fmt.Errorf("answer file %s of check %s: %w", a.Path, c.ID, err)
		}
		if err := n.Remove(ctx, a.Path); err != nil {
			return fmt.Errorf("remove the previous answer %s of check %s: %w", a.Path, c.ID, err)
		}
	}
	return nil
}
