package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

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
					Scenario string         `json:"scenario"`
					Results  []checkView    `json:"results"`
					Summary  checks.Summary `json:"summary"`
					Penalty  int            `json:"penalty"`
				}{st.Scenario, checkViews(results), sum, st.Penalty})
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

// resultMark is statusMark, or for a guard "✔ guard ok" / "✘ guard broken".
func resultMark(r checks.Result) string {
	if !r.Guard {
		return statusMark(r.Status)
	}
	if r.GuardBroken() {
		return "✘ " + r.Label()
	}
	return "✔ " + r.Label()
}

// guardNote says what a broken guard costs, or why a passing objective
// scores nothing ("" when neither applies).
func guardNote(r checks.Result, cancelled map[string][]string) string {
	switch {
	case r.GuardBroken() && len(r.Protects) == 0:
		return "this guard is broken: no objective of the task scores"
	case r.GuardBroken():
		return "this guard is broken: no points for " + strings.Join(r.Protects, ", ")
	case !r.Guard && r.Status == checks.Pass && len(cancelled[r.ID]) > 0:
		return "passes, but scores 0: guard " + strings.Join(cancelled[r.ID], ", ") + " is broken"
	}
	return ""
}

func printResults(w io.Writer, results []checks.Result, sum checks.Summary, penalty int) {
	width := 8
	for _, r := range results {
		width = max(width, utf8.RuneCountInString(resultMark(r))+1)
	}
	pad := strings.Repeat(" ", width+1)
	cancelled := checks.CancelledBy(results)
	for _, r := range results {
		mark := resultMark(r)
		fmt.Fprintf(w, "%s%s %s\n", mark, strings.Repeat(" ", width-utf8.RuneCountInString(mark)), r.Objective)
		if r.Status != checks.Pass && r.Message != "" {
			fmt.Fprintf(w, "%s%s\n", pad, r.Message)
			for _, e := range r.Evidence {
				fmt.Fprintf(w, "%s  %s\n", pad, e)
			}
		}
		if n := guardNote(r, cancelled); n != "" {
			fmt.Fprintf(w, "%s%s\n", pad, n)
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
	guards := ""
	if sum.Guards > 0 {
		guards = fmt.Sprintf("; guards %d/%d ok (no points; a broken one cancels what it protects)", sum.Guards-len(sum.BrokenGuards), sum.Guards)
	}
	fmt.Fprintf(w, "\nScore %d/%d%s: %d passed, %d failed, %d errors, %d skipped%s\n", score, sum.Max, pen, sum.Passed, sum.Failed, sum.Errored, sum.Skipped, guards)
}

// checkView is one result as check -o json shows it: the result plus the
// report label ("guard ok", "guard broken", or the status), the points it
// earns and which broken guards cancelled them.
type checkView struct {
	checks.Result
	Label       string   `json:"label"`
	Points      int      `json:"points"`
	CancelledBy []string `json:"cancelledBy,omitempty"`
}

func checkViews(results []checks.Result) []checkView {
	cancelled := checks.CancelledBy(results)
	out := make([]checkView, 0, len(results))
	for _, r := range results {
		v := checkView{Result: r, Label: r.Label()}
		if r.Status == checks.Pass && !r.Guard {
			v.CancelledBy = cancelled[r.ID]
			if len(v.CancelledBy) == 0 {
				v.Points = r.Points()
			}
		}
		out = append(out, v)
	}
	return out
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
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Body    string `xml:",chardata"`
}

func suiteOf(name string, results []checks.Result) junitSuite {
	s := junitSuite{Name: name, Tests: len(results)}
	cancelled := checks.CancelledBy(results)
	for _, r := range results {
		c := junitCase{Name: r.ID + ": " + r.Objective, Classname: "ckslab." + name, Time: r.Duration.Seconds()}
		msg := r.Message
		if r.Guard {
			// Guards are their own class, so a report lists them apart.
			c.Name, c.Classname = "guard "+c.Name, c.Classname+".guard"
		}
		if n := guardNote(r, cancelled); n != "" {
			c.SystemOut = n
			if msg == "" {
				msg = n
			} else {
				msg += " (" + n + ")"
			}
		}
		s.Time += r.Duration.Seconds()
		s.add(c, string(r.Status), &junitMessage{Message: msg, Body: strings.Join(r.Evidence, "\n")})
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
