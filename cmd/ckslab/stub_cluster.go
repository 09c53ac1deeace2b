package main

import "github.com/spf13/cobra"

// Placeholder until the cluster command lands; delete this file when it does.
func newClusterCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "cluster", Short: "(not available in this build)", Hidden: true,
		RunE: func(*cobra.Command, []string) error { return errNotBuilt("cluster") }}
}
