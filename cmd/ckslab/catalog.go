package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/curriculum"
	"github.com/ckslab/ckslab/engine/exam"
	"github.com/ckslab/ckslab/engine/load"
	"github.com/ckslab/ckslab/scenarios/exams"
)

// scenarioSummary is the stable machine-readable shape of a catalog entry.
type scenarioSummary struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Domain     string   `json:"domain"`
	Competency string   `json:"competency"`
	Difficulty string   `json:"difficulty"`
	Minutes    int      `json:"minutes"`
	Requires   []string `json:"requires"`
	Source     string   `json:"source"`
}

func summarize(s load.Summary) scenarioSummary {
	req := []string{}
	for _, c := range s.Requires {
		req = append(req, string(c))
	}
	return scenarioSummary{ID: s.ID, Title: s.Title, Domain: string(s.Domain), Competency: s.Competency,
		Difficulty: s.Difficulty, Minutes: s.Minutes, Requires: req, Source: s.Source}
}

func newListCmd(a *app) *cobra.Command {
	var domain, output string
	var competencies bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List scenarios by CKS domain",
		Long: `list shows the catalog: each scenario's domain, curriculum competency, difficulty,
suggested minutes and what the backend must provide. --competencies shows, for each of the
curriculum's 26 competencies, the scenarios that drill it and which have none yet.`,
		Example: "  ckslab list --domain cluster-setup\n  ckslab list --competencies\n  ckslab list -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(output, "table", "json", "yaml", "name"); err != nil {
				return err
			}
			c, err := a.loadCatalog()
			if err != nil {
				return err
			}
			if domain != "" && !knownDomain(domain) {
				return fmt.Errorf("unknown domain %q; use one of: %s", domain, strings.Join(domainNames(), ", "))
			}
			if competencies {
				return listCompetencies(a, c.Summaries(), domain, output)
			}
			sums := []scenarioSummary{}
			for _, s := range c.Summaries() {
				if domain == "" || s.Domain == v1alpha1.Domain(domain) {
					sums = append(sums, summarize(s))
				}
			}
			switch output {
			case "json":
				return writeJSON(a.Out, sums)
			case "yaml":
				return writeYAML(a.Out, sums)
			case "name":
				for _, s := range sums {
					fmt.Fprintln(a.Out, s.ID)
				}
				return nil
			}
			tw := newTable(a.Out)
			fmt.Fprintln(tw, "ID\tDOMAIN\tCOMPETENCY\tDIFFICULTY\tMIN\tREQUIRES\tTITLE")
			for _, s := range sums {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", s.ID, s.Domain, s.Competency, s.Difficulty, s.Minutes, strings.Join(s.Requires, ","), s.Title)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&domain, "domain", "", "only this CKS domain")
	cmd.Flags().BoolVar(&competencies, "competencies", false, "coverage of the curriculum's competencies: the scenarios of each, and the gaps")
	_ = cmd.RegisterFlagCompletionFunc("domain", fixedCompletion(domainNames()...))
	outputFlag(cmd, &output, "table", "json", "yaml", "name")
	return cmd
}

func knownDomain(d string) bool {
	for _, k := range v1alpha1.Domains {
		if string(k) == d {
			return true
		}
	}
	return false
}

func domainNames() []string {
	var out []string
	for _, d := range v1alpha1.Domains {
		out = append(out, string(d))
	}
	return out
}

func newDescribeCmd(a *app) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:               "describe ID",
		Short:             "Show a scenario's task, objectives and needs",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeScenarioIDs(a),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(output, "text", "json", "yaml"); err != nil {
				return err
			}
			s, err := a.scenario(args[0])
			if err != nil {
				return err
			}
			switch output {
			case "json":
				return writeJSON(a.Out, s.Scenario)
			case "yaml":
				return writeYAML(a.Out, s.Scenario)
			}
			sp := s.Spec
			fmt.Fprintf(a.Out, "%s: %s\n", s.ID, sp.Title)
			fmt.Fprintf(a.Out, "Domain:      %s\n", v1alpha1.DomainTitle(sp.Domain))
			fmt.Fprintf(a.Out, "Competency:  %s\n", sp.Competency)
			fmt.Fprintf(a.Out, "Difficulty:  %s, %d minutes\n", sp.Difficulty, sp.Minutes)
			var req []string
			for _, c := range sp.Requires {
				req = append(req, string(c))
			}
			fmt.Fprintf(a.Out, "Requires:    %s\n", strings.Join(req, ", "))
			fmt.Fprintf(a.Out, "Source:      %s (%s)\n\nTask:\n", s.Source, s.File)
			for _, l := range strings.Split(strings.TrimRight(sp.Task, "\n"), "\n") {
				fmt.Fprintf(a.Out, "  %s\n", l)
			}
			fmt.Fprintf(a.Out, "\nObjectives:\n")
			for _, c := range sp.Checks {
				w := c.Weight
				if w == 0 {
					w = 1
				}
				if c.Guard {
					// No points; breaking it cancels what it protects.
					fmt.Fprintf(a.Out, "  - [guard] %s\n", c.Objective)
					continue
				}
				fmt.Fprintf(a.Out, "  - [%d] %s\n", w, c.Objective)
			}
			fmt.Fprintf(a.Out, "\nHints: %d (ckslab hint)\n", len(sp.Hints))
			return nil
		},
	}
	outputFlag(cmd, &output, "text", "json", "yaml")
	return cmd
}

func newLintCmd(a *app) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "lint [PATH...]",
		Short: "Check scenario files: strict schema, ids, CEL, regexes and referenced files",
		Long: `Lint checks scenario files and directories (searched for scenario.yaml).
Every problem is reported as file:line:column: field.path: message, all at once.
Without arguments it lints the built-in catalog and the mock exams (scenarios/exams).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(output, "text", "json"); err != nil {
				return err
			}
			var n, nMocks int
			var ps load.Problems
			if len(args) == 0 {
				a.catalogQuiet = true // the problems are this command's output
				a.catalogStrict = true
				c, err := a.loadCatalog()
				if err != nil {
					return err
				}
				ps = a.catalogWarn
				// Scenarios that loaded plus the files that did not.
				bad := map[string]bool{}
				for _, p := range ps {
					bad[p.File] = true
				}
				n = c.Len() + len(bad)
				// The mock exams are linted against the catalog.
				mocks, err := exam.LoadMocks(exams.FS)
				if err != nil {
					ps = append(ps, load.Problem{File: "scenarios/exams", Message: err.Error()})
				}
				ps = append(ps, exam.LintMocks(mocks, c)...)
				nMocks = len(mocks)
			} else {
				n, ps = load.LintPaths(args)
			}
			if output == "json" {
				type jp struct {
					File    string `json:"file"`
					Line    int    `json:"line"`
					Column  int    `json:"column"`
					Field   string `json:"field,omitempty"`
					Message string `json:"message"`
				}
				out := []jp{}
				for _, p := range ps {
					out = append(out, jp{p.File, p.Line, p.Column, p.Field, p.Message})
				}
				if err := writeJSON(a.Out, out); err != nil {
					return err
				}
			} else {
				for _, p := range ps {
					fmt.Fprintln(a.Out, p.String())
				}
			}
			if len(ps) > 0 {
				return &exitError{code: 1, msg: fmt.Sprintf("%d problem(s) in %d file(s) linted", len(ps), n+nMocks)}
			}
			if output == "text" {
				fmt.Fprintf(a.ErrOut, "%d scenario file(s) OK\n", n)
				if nMocks > 0 {
					fmt.Fprintf(a.ErrOut, "%d mock exam file(s) OK\n", nMocks)
				}
			}
			return nil
		},
	}
	outputFlag(cmd, &output, "text", "json")
	return cmd
}

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print ckslab's version and the Kubernetes version it targets",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(a.Out, "ckslab %s (scenario API %s, Kubernetes %s)\n", version(), v1alpha1.APIVersion, kubernetesVersion)
			return nil
		},
	}
}

// competencyCoverage is the machine-readable shape of one line of
// `ckslab list --competencies`.
type competencyCoverage struct {
	ID        string   `json:"id"`
	Domain    string   `json:"domain"`
	Text      string   `json:"text"`
	Count     int      `json:"count"`
	Scenarios []string `json:"scenarios"`
}

// listCompetencies prints the curriculum's competencies (of one domain, or
// all) with the catalog's scenarios for each, then the gaps.
func listCompetencies(a *app, sums []load.Summary, domain, output string) error {
	by := map[string][]string{}
	for _, s := range sums {
		by[s.Competency] = append(by[s.Competency], s.ID)
	}
	rows := []competencyCoverage{}
	var gaps []string
	for _, c := range curriculum.Competencies() {
		if domain != "" && c.Domain != v1alpha1.Domain(domain) {
			continue
		}
		ids := by[c.ID]
		if ids == nil {
			ids = []string{}
			gaps = append(gaps, c.ID)
		}
		rows = append(rows, competencyCoverage{ID: c.ID, Domain: string(c.Domain), Text: c.Text, Count: len(ids), Scenarios: ids})
	}
	switch output {
	case "json":
		return writeJSON(a.Out, rows)
	case "yaml":
		return writeYAML(a.Out, rows)
	case "name":
		for _, r := range rows {
			fmt.Fprintln(a.Out, r.ID)
		}
		return nil
	}
	tw := newTable(a.Out)
	fmt.Fprintln(tw, "DOMAIN\tCOMPETENCY\tCOUNT\tSCENARIOS")
	for _, r := range rows {
		list := strings.Join(r.Scenarios, ",")
		if r.Count == 0 {
			list = "- (gap)"
		}
		fmt.Fprintf(tw, "%s (%d%%)\t%s\t%d\t%s\n", r.Domain, curriculum.Weight(v1alpha1.Domain(r.Domain)), r.ID, r.Count, list)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(a.Out, "\n%d of %d competencies covered (CKS curriculum %s)", len(rows)-len(gaps), len(rows), curriculum.Version)
	if len(gaps) > 0 {
		fmt.Fprintf(a.Out, "; no scenario yet: %s", strings.Join(gaps, ", "))
	}
	fmt.Fprintln(a.Out)
	return nil
}
