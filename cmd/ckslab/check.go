package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/progress"
)

func newCheckCmd(a *app) *cobra.Command {
	var output string
	var allowHost bool
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Judge the current lab (exit 0 only when every objective passes)",
		Long: `check evaluates every objective of the current lab and says what is still wrong.
Exit status: 0 all objectives pass, 1 some do not, 2 the checks could not run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(output, "table", "json", "junit"); err != nil {
				return &exitError{code: 2, msg: err.Error()}
			}
			ctx := cmd.Context()
			r, err := a.labRunner(ctx, allowHost)
			if err != nil {
				return &exitError{code: 2, msg: "error: " + err.Error()}
			}
			st, err := r.LoadState()
			if err != nil {
				return labError(err)
			}
			results, err := r.Check(ctx)
			if err != nil {
				return &exitError{code: 2, msg: "error: " + err.Error()}
			}
			sum := checks.Summarize(results)
			a.recordProgress(func(s *progress.Store) error {
				return s.RecordCheck(st.Scenario, progress.Check{Score: sum.Score, Max: sum.Max, Passed: sum.AllPassed(), At: time.Now()})
			})
			switch output {
			case "json":
				err = writeJSON(a.Out, struct {
					Scenario string          `json:"scenario"`
					Results  []checks.Result `json:"results"`
					Summary  checks.Summary  `json:"summary"`
					Penalty  int             `json:"penalty"`
				}{st.Scenario, results, sum, st.Penalty})
			case "junit":
				err = writeJUnit(a.Out, []junitSuite{suiteOf(st.Scenario, results)})
			default:
				printResults(a.Out, results, sum, st.Penalty)
			}
			if err != nil {
				return &exitError{code: 2, msg: "error: " + err.Error()}
			}
			if sum.Errored > 0 && sum.Failed == 0 {
				return &exitError{code: 2}
			}
			if !sum.AllPassed() {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	outputFlag(cmd, &output, "table", "json", "junit")
	addAllowHostFlag(cmd, &allowHost)
	return cmd
}

func statusMark(s checks.Status) string {
	switch s {
	case checks.Pass:
		return "✔ pass"
	case checks.Fail:
		return "✘ fail"
	case checks.Error:
		return "! error"
	}
	return "- skip"
}

func printResults(w io.Writer, results []checks.Result, sum checks.Summary, penalty int) {
	for _, r := range results {
		fmt.Fprintf(w, "%-8s %s\n", statusMark(r.Status), r.Objective)
		if r.Status != checks.Pass && r.Message != "" {
			fmt.Fprintf(w, "         %s\n", r.Message)
			for _, e := range r.Evidence {
				fmt.Fprintf(w, "           %s\n", e)
			}
		}
	}
	score := sum.Score - penalty
	if score < 0 {
		score = 0
	}
	pen := ""
	if penalty > 0 {
		pen = fmt.Sprintf(" (-%d for hints)", penalty)
	}
	fmt.Fprintf(w, "\nScore %d/%d%s: %d passed, %d failed, %d errors, %d skipped\n", score, sum.Max, pen, sum.Passed, sum.Failed, sum.Errored, sum.Skipped)
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     float64     `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      float64       `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Body    string `xml:",chardata"`
}

func suiteOf(name string, results []checks.Result) junitSuite {
	s := junitSuite{Name: name, Tests: len(results)}
	for _, r := range results {
		c := junitCase{Name: r.ID + ": " + r.Objective, Classname: "ckslab." + name, Time: r.Duration.Seconds()}
		s.Time += r.Duration.Seconds()
		s.add(c, string(r.Status), &junitMessage{Message: r.Message, Body: strings.Join(r.Evidence, "\n")})
	}
	return s
}

// add appends a case with its outcome ("fail", "error", "skip"; anything
// else passes) and keeps the suite's counters in step.
func (s *junitSuite) add(c junitCase, outcome string, m *junitMessage) {
	switch outcome {
	case "fail":
		c.Failure = m
		s.Failures++
	case "error":
		c.Error = m
		s.Errors++
	case "skip":
		c.Skipped = m
		s.Skipped++
	}
	s.Cases = append(s.Cases, c)
}

func writeJUnit(w io.Writer, suites []junitSuite) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: suites}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
