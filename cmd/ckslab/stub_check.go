package main

import "github.com/spf13/cobra"

// Placeholder until the check command lands; delete this file when it does.
func newCheckCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "check", Short: "(not available in this build)", Hidden: true,
		RunE: func(*cobra.Command, []string) error { return errNotBuilt("check") }}
}
