package main

import "github.com/spf13/cobra"

// Placeholder until the env command lands; delete this file when it does.
func newEnvCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "env", Short: "(not available in this build)", Hidden: true,
		RunE: func(*cobra.Command, []string) error { return errNotBuilt("env") }}
}
