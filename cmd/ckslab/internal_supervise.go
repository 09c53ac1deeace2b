package main

import (
	"github.com/spf13/cobra"

	"github.com/ckslab/ckslab/engine/cluster/local"
)

// newSuperviseCmd is the hidden entry point of the local backend's detached
// supervisor (the "kubelet" of a local cluster). `ckslab cluster up` starts it as
// `ckslab __supervise --node-dir DIR`; users never call it.
func newSuperviseCmd() *cobra.Command {
	var nodeDir string
	cmd := &cobra.Command{
		Use:           "__supervise",
		Short:         "Run the local cluster's static pod supervisor (internal)",
		Hidden:        true,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: false,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return local.RunSupervisor(cmd.Context(), nodeDir)
		},
	}
	cmd.Flags().StringVar(&nodeDir, "node-dir", "", "node directory of the local cluster")
	_ = cmd.MarkFlagRequired("node-dir")
	return cmd
}
