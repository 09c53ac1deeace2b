package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/cluster/backend"
	"github.com/ckslab/ckslab/engine/cluster/existing"
	"github.com/ckslab/ckslab/engine/cluster/local"
	"github.com/ckslab/ckslab/engine/doctor"
)

// newDoctorCmd checks the host for both backends. It exits non-zero only when
// a check fails (warnings are advice).
func newDoctorCmd(a *app) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check this machine for the kind and local backends (and an existing cluster's capabilities)",
		Long: "Checks the container engine, kind node image, inotify limits, cgroups, memory, disk,\n" +
			"AppArmor/BTF support, kubectl and the local backend's binaries, and says how to fix each problem.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(output, "text", "json"); err != nil {
				return err
			}
			env, err := doctor.HostEnv(backend.KindSettingsFromEnv(os.Getenv).EffectiveNodeImage(), local.DefaultKubernetesVersion)
			if err != nil {
				return err
			}
			report := doctor.Run(cmd.Context(), env)
			report.Checks = append(report.Checks, a.existingClusterChecks()...)
			if output == "json" {
				if err := writeJSON(a.Out, struct {
					doctor.Report
					Worst doctor.Status `json:"worst"`
				}{report, report.Worst()}); err != nil {
					return err
				}
			} else {
				printDoctor(a, report)
			}
			if report.Worst() == doctor.Fail {
				return &exitError{code: 1, msg: "doctor: some checks failed (see the fixes above)"}
			}
			return nil
		},
	}
	outputFlag(cmd, &output, "text", "json")
	return cmd
}

// existingClusterChecks are the capabilities `cluster up --backend
// cluster` detected on the cluster named by --cluster, each with its
// reason (none when that cluster was never set up for ckslab).
func (a *app) existingClusterChecks() []doctor.Check {
	b, err := existing.New(existing.Options{StateRoot: a.stateRoot()})
	if err != nil {
		return nil
	}
	f, err := b.Findings(a.clusterName)
	if err != nil {
		return nil
	}
	var out []doctor.Check
	for _, c := range v1alpha1.AllCapabilities {
		x, ok := f[c]
		if !ok {
			continue
		}
		ch := doctor.Check{Name: "cluster " + a.clusterName + ": " + string(c), Status: doctor.Pass, Message: x.Reason}
		if !x.Has {
			ch.Status = doctor.Warn
			ch.Fix = "scenarios needing " + string(c) + " are skipped on this cluster (ckslab cluster down + up --backend cluster detects again)"
		}
		out = append(out, ch)
	}
	return out
}

func printDoctor(a *app, r doctor.Report) {
	w := newTable(a.Out)
	for _, c := range r.Checks {
		fmt.Fprintf(w, "%s\t%s\t%s\n", c.Status, c.Name, c.Message)
		if c.Fix != "" {
			fmt.Fprintf(w, "\t\tfix: %s\n", c.Fix)
		}
	}
	_ = w.Flush()
}
