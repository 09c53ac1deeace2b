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
	var output, altDir string
	var all, allowHost, bothWays bool
	cmd := &cobra.Command{
		Use:   "validate [ID...|PACK_DIR...|--all]",
		Short: "Prove scenarios: seeded state fails, reference solution passes",
		Long: `validate runs each scenario on the lab cluster: reset, setup, check (at least one
objective must fail), apply the reference solution, check (all must pass, polling
while the cluster converges), reset. Scenarios needing capabilities the backend lacks
are reported as skipped. Exit status is non-zero when any scenario fails.

The seeded state must score 0 (every scored objective still to do) with every guard
holding. --alternatives DIR then runs DIR/<id>/*.yaml for each scenario proved: other
fixes, each expected to pass every objective or (expect: fail) to fail the objectives
it names in mustFail; one that disagrees fails the scenario.

validate records where each objective was seen failing (seeded state, a wrong fix) and
passing (reference solution, a correct fix) and lists those never seen both ways: a
check never seen failing proves nothing. --require-both-ways (on by default with --all)
makes any such objective fail the run; guards are only seen failing through a wrong
fix that breaks them, so run --all with --alternatives.

A directory argument is a scenario pack (or any directory of scenarios): every scenario
in it is validated, as untrusted pack content (node commands on this host need
--allow-host-commands), with ids namespaced <dir>/<id> where they collide with the catalog.`,
		Example:           "  ckslab validate psp-01\n  ckslab validate --all --alternatives testdata/alternatives -o junit > validate.xml\n  ckslab validate --scenarios ./my-scenarios my-lab-01 --alternatives ./my-alternatives\n  ckslab validate --scenarios ./my-scenarios --all\n  ckslab validate ./my-pack --backend kind",
		ValidArgsFunction: completeScenarioIDs(a),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(output, "table", "json", "junit"); err != nil {
				return err
			}
			if all == (len(args) > 0) {
				return fmt.Errorf("name scenarios to validate, or pass --all")
			}
			a.catalogStrict = true // proves scenarios: lint them all first, as before
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
			var alts map[string][]runner.NamedAlternative
			if altDir != "" {
				var problems []string
				alts, problems, err = runner.LoadAlternatives(r.Catalog, altDir, ids)
				if err != nil {
					return err
				}
				if len(problems) > 0 {
					return &exitError{code: 1, msg: fmt.Sprintf("%s\n%d problem(s) in %s: fix them before validating", strings.Join(problems, "\n"), len(problems), altDir)}
				}
			}
			if !cmd.Flags().Changed("require-both-ways") {
				bothWays = all
			}
			results := r.ValidateWith(ctx, ids, alts)
			gaps := runner.CoverageGaps(results)
			switch output {
			case "json":
				err = writeJSON(a.Out, results)
			case "junit":
				suites := validateSuites(results)
				if bothWays {
					suites = append(suites, coverageSuite(gaps))
				}
				err = writeJUnit(a.Out, suites)
			default:
				printValidate(a.Out, results)
				printCoverage(a.Out, results, gaps, bothWays)
			}
			if err != nil {
				return err
			}
			if !runner.Passed(results) || len(results) < len(ids) || (bothWays && len(gaps) > 0) {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	outputFlag(cmd, &output, "table", "json", "junit")
	cmd.Flags().BoolVar(&all, "all", false, "validate every scenario in the catalog")
	cmd.Flags().StringVar(&altDir, "alternatives", "", "also run the alternative fixes DIR/<id>/*.yaml of each scenario (see testdata/alternatives/README.md)")
	cmd.Flags().BoolVar(&bothWays, "require-both-ways", false, "fail when an objective was never seen failing or never seen passing (default: on with --all)")
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
		if len(r.Seeded) > 0 {
			fmt.Fprintf(w, "         seeded state scores %d/%d\n", r.SeededScore, r.SeededMax)
		}
		for _, o := range r.Alternatives {
			fmt.Fprintf(w, "         alternative %-32s expect %-4s %s", o.Name, o.Expect, strings.ToUpper(string(o.Verdict)))
			if o.Verdict != runner.VerdictPass && o.Reason != "" {
				fmt.Fprintf(w, "  %s", o.Reason)
			}
			fmt.Fprintln(w)
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
		for _, o := range r.Alternatives {
			s.Tests++
			ac := junitCase{Name: r.ID + "/" + o.Name + " (expect " + o.Expect + ")", Classname: "ckslab.validate." + r.ID + ".alternatives"}
			s.add(ac, string(o.Verdict), &junitMessage{Message: o.Reason})
		}
	}
	return []junitSuite{s}
}

// gapText says how an objective was not seen both ways.
func gapText(g runner.ObjectiveSeen) string {
	var never []string
	if len(g.Failing) == 0 {
		never = append(never, "never seen failing")
	}
	if len(g.Passing) == 0 {
		never = append(never, "never seen passing")
	}
	kind := ""
	if g.Guard {
		kind = "guard "
	}
	return fmt.Sprintf("%s %s%s: %s", g.Scenario, kind, g.ID, strings.Join(never, ", "))
}

// printCoverage reports the objectives never seen failing or passing.
func printCoverage(w io.Writer, results []runner.ValidateResult, gaps []runner.ObjectiveSeen, required bool) {
	total := 0
	for _, r := range results {
		if r.Verdict == runner.VerdictPass || r.Verdict == runner.VerdictFail {
			total += len(r.Objectives)
		}
	}
	if total == 0 {
		return
	}
	unjudged := runner.UnjudgedObjectives(results)
	fmt.Fprintf(w, "%d of %d objectives seen both ways (failing: seeded state or a wrong fix; passing: reference or a correct fix)", total-len(gaps)-len(unjudged), total-len(unjudged))
	if len(unjudged) > 0 {
		fmt.Fprintf(w, "; %d not judged on this backend", len(unjudged))
	}
	fmt.Fprintln(w)
	for _, u := range unjudged {
		fmt.Fprintf(w, "  not judged: %s %s: %s\n", u.Scenario, u.ID, strings.TrimPrefix(u.NotJudged, checks.NotJudgedPrefix))
	}
	if len(gaps) == 0 {
		return
	}
	verdict := "reported"
	if required {
		verdict = "FAIL (--require-both-ways)"
	}
	fmt.Fprintf(w, "%d objective(s) not seen both ways, %s; a check never seen failing proves nothing (add a wrong fix that it must catch):\n", len(gaps), verdict)
	for _, g := range gaps {
		fmt.Fprintf(w, "  %s\n", gapText(g))
	}
}

// coverageSuite is one junit case per objective not seen both ways.
func coverageSuite(gaps []runner.ObjectiveSeen) junitSuite {
	s := junitSuite{Name: "ckslab validate: objectives seen both ways"}
	if len(gaps) == 0 {
		s.Tests = 1
		s.add(junitCase{Name: "every objective seen failing and passing", Classname: "ckslab.coverage"}, "pass", nil)
		return s
	}
	for _, g := range gaps {
		s.Tests++
		s.add(junitCase{Name: g.Scenario + "/" + g.ID, Classname: "ckslab.coverage." + g.Scenario}, "fail", &junitMessage{Message: gapText(g)})
	}
	return s
}
