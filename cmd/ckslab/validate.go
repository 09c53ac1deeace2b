package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/runner"
)

func newValidateCmd(a *app) *cobra.Command {
	var output string
	var all, allowHost bool
	cmd := &cobra.Command{
		Use:   "validate [ID...|PACK_DIR...|--all]",
		Short: "Prove scenarios: seeded state fails, reference solution passes",
		Long: `validate runs each scenario on the lab cluster: reset, setup, check (at least one
objective must fail), apply the reference solution, check (all must pass, polling
while the cluster converges), reset. Scenarios needing capabilities the backend lacks
are reported as skipped. Exit status is non-zero when any scenario fails.

A directory argument is a scenario pack (or any directory of scenarios): every scenario
in it is validated, as untrusted pack content (node commands on this host need
--allow-host-commands), with ids namespaced <dir>/<id> where they collide with the catalog.`,
		Example:           "  ckslab validate psp-01\n  ckslab validate --all -o junit > validate.xml\n  ckslab validate --scenarios ./my-scenarios --all\n  ckslab validate ./my-pack --backend kind",
		ValidArgsFunction: completeScenarioIDs(a),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(output, "table", "json", "junit"); err != nil {
				return err
			}
			if all == (len(args) > 0) {
				return fmt.Errorf("name scenarios to validate, or pass --all")
			}
			var ids []string
			for _, arg := range args {
				if info, err := os.Stat(arg); err == nil && info.IsDir() {
					a.packDirs = append(a.packDirs, arg)
					continue
				}
				ids = append(ids, arg)
			}
			if len(a.packDirs) > 0 {
				c, err := a.loadCatalog()
				if err != nil {
					return err
				}
				if len(a.catalogWarn) > 0 {
					return &exitError{code: 1, msg: fmt.Sprintf("%d lint problem(s): fix them before validating (ckslab lint %s)", len(a.catalogWarn), strings.Join(a.packDirs, " "))}
				}
				for _, s := range c.All() {
					if strings.HasPrefix(s.Source, "pack:") && isPackDirSource(s.Source, a.packDirs) {
						ids = append(ids, s.ID)
					}
				}
				if len(ids) == 0 {
					return fmt.Errorf("no scenarios found in %s", strings.Join(a.packDirs, ", "))
				}
			}
			ctx := cmd.Context()
			r, err := a.labRunner(ctx, allowHost)
			if err != nil {
				return err
			}
			if all {
				for _, s := range r.Catalog.All() {
					ids = append(ids, s.ID)
				}
			}
			results := r.Validate(ctx, ids)
			switch output {
			case "json":
				err = writeJSON(a.Out, results)
			case "junit":
				err = writeJUnit(a.Out, validateSuites(results))
			default:
				printValidate(a.Out, results)
			}
			if err != nil {
				return err
			}
			if !runner.Passed(results) || len(results) < len(ids) {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	outputFlag(cmd, &output, "table", "json", "junit")
	cmd.Flags().BoolVar(&all, "all", false, "validate every scenario in the catalog")
	addAllowHostFlag(cmd, &allowHost)
	return cmd
}

// isPackDirSource reports whether a scenario's source is one of the pack
// directories named on the command line.
func isPackDirSource(source string, dirs []string) bool {
	for _, d := range dirs {
		name := filepath.Base(filepath.Clean(d))
		if abs, err := filepath.Abs(d); err == nil {
			name = filepath.Base(abs)
		}
		if source == "pack:"+name {
			return true
		}
	}
	return false
}

func printValidate(w io.Writer, results []runner.ValidateResult) {
	counts := map[runner.Verdict]int{}
	for _, r := range results {
		counts[r.Verdict]++
		fmt.Fprintf(w, "%-6s %-32s %5.1fs", strings.ToUpper(string(r.Verdict)), r.ID, r.Duration.Seconds())
		if r.Reason != "" {
			fmt.Fprintf(w, "  %s", r.Reason)
		}
		fmt.Fprintln(w)
		if r.Verdict == runner.VerdictFail {
			for _, c := range r.Solved {
				if c.Status != checks.Pass {
					fmt.Fprintf(w, "         solved: %s %s: %s\n", c.Status, c.ID, c.Message)
				}
			}
		}
	}
	fmt.Fprintf(w, "\n%d passed, %d failed, %d errors, %d skipped\n", counts[runner.VerdictPass], counts[runner.VerdictFail], counts[runner.VerdictError], counts[runner.VerdictSkip])
}

func validateSuites(results []runner.ValidateResult) []junitSuite {
	s := junitSuite{Name: "ckslab validate", Tests: len(results)}
	for _, r := range results {
		c := junitCase{Name: r.ID, Classname: "ckslab.validate", Time: r.Duration.Seconds()}
		s.Time += r.Duration.Seconds()
		s.add(c, string(r.Verdict), &junitMessage{Message: r.Reason})
	}
	return []junitSuite{s}
}
