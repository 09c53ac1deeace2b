package main

import "github.com/spf13/cobra"

// Placeholder until the exam command lands; delete this file when it does.
func newExamCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "exam", Short: "(not available in this build)", Hidden: true,
		RunE: func(*cobra.Command, []string) error { return errNotBuilt("exam") }}
}
