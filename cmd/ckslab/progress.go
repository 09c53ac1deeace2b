package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckslab/ckslab/engine/progress"
)

// progressRow is the stable machine-readable shape of one scenario's progress.
type progressRow struct {
	ID             string  `json:"id"`
	Attempts       int     `json:"attempts"`
	Checks         int     `json:"checks"`
	BestScore      int     `json:"bestScore"`
	BestMax        int     `json:"bestMax"`
	Solved         bool    `json:"solved"`
	HintsUsed      int     `json:"hintsUsed"`
	SolutionViewed bool    `json:"solutionViewed"`
	TimeSeconds    float64 `json:"timeSeconds"`
	BestTimeSecs   float64 `json:"bestTimeSeconds,omitempty"`
}

// recordProgress updates the progress store from the plain CLI (the
// terminal UI records its own); a failure is a warning, never the
// command's error.
func (a *app) recordProgress(fn func(*progress.Store) error) {
	if err := fn(progress.Open(a.stateRoot())); err != nil {
		fmt.Fprintf(a.ErrOut, "warning: progress not recorded: %v\n", err)
	}
}

func newProgressCmd(a *app) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "progress",
		Short: "Show attempts, best score, time and hints per scenario, and exam results",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(output, "table", "json"); err != nil {
				return err
			}
			d, err := progress.Open(a.stateRoot()).Load()
			if err != nil {
				return err
			}
			rows := []progressRow{}
			for _, s := range d.List() {
				rows = append(rows, progressRow{ID: s.ID, Attempts: s.Attempts, Checks: s.Checks, BestScore: s.BestScore, BestMax: s.BestMax,
					Solved: s.Solved, HintsUsed: s.HintsUsed, SolutionViewed: s.SolutionViewed,
					TimeSeconds: s.TimeSpent.Seconds(), BestTimeSecs: s.BestTime.Seconds()})
			}
			if output == "json" {
				exams := d.Exams
				if exams == nil {
					exams = []progress.Exam{}
				}
				return writeJSON(a.Out, struct {
					Scenarios []progressRow   `json:"scenarios"`
					Exams     []progress.Exam `json:"exams"`
				}{rows, exams})
			}
			if len(rows) == 0 && len(d.Exams) == 0 {
				fmt.Fprintln(a.Out, "No progress yet: start a lab with `ckslab start <id>` (`ckslab list` shows them).")
				return nil
			}
			tw := newTable(a.Out)
			fmt.Fprintln(tw, "SCENARIO\tATTEMPTS\tBEST\tSOLVED\tTIME\tHINTS")
			for _, r := range rows {
				solved := "no"
				if r.Solved {
					solved = "yes"
				}
				best := "-"
				if r.BestMax > 0 {
					best = fmt.Sprintf("%d/%d", r.BestScore, r.BestMax)
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\n", r.ID, r.Attempts, best, solved, time.Duration(r.TimeSeconds*float64(time.Second)).Round(time.Second), r.HintsUsed)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if len(d.Exams) > 0 {
				fmt.Fprintln(a.Out)
				tw = newTable(a.Out)
				fmt.Fprintln(tw, "EXAM\tTASKS\tSCORE\tRESULT\tSEED")
				for _, e := range d.Exams {
					res := "fail"
					if e.Passed {
						res = "pass"
					}
					fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%s\t%d\n", e.StartedAt.Local().Format("2006-01-02 15:04"), len(e.Tasks), e.Percent, res, e.Seed)
				}
				return tw.Flush()
			}
			return nil
		},
	}
	outputFlag(cmd, &output, "table", "json")
	return cmd
}
