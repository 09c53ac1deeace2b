package main

import "github.com/spf13/cobra"

// Placeholder until the validate command lands; delete this file when it does.
func newValidateCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "validate", Short: "(not available in this build)", Hidden: true,
		RunE: func(*cobra.Command, []string) error { return errNotBuilt("validate") }}
}
