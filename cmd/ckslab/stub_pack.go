package main

import "github.com/spf13/cobra"

// Placeholder until the pack command lands; delete this file when it does.
func newPackCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "pack", Short: "(not available in this build)", Hidden: true,
		RunE: func(*cobra.Command, []string) error { return errNotBuilt("pack") }}
}
