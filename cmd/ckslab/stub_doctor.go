package main

import "github.com/spf13/cobra"

// Placeholder until the doctor command lands; delete this file when it does.
func newDoctorCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "doctor", Short: "(not available in this build)", Hidden: true,
		RunE: func(*cobra.Command, []string) error { return errNotBuilt("doctor") }}
}
