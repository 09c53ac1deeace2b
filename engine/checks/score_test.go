package checks_test

import (
	"slices"
	"testing"

	"github.com/ckslab/ckslab/engine/checks"
)

func r(id string, st checks.Status, w int) checks.Result {
	return checks.Result{ID: id, Status: st, Weight: w}
}

func guard(id string, st checks.Status, protects ...string) checks.Result {
	return checks.Result{ID: id, Status: st, Guard: true, Protects: protects}
}

// The scoring rule of issue 14: guards award no points and count in no
// Max; a broken guard cancels what it protects (everything by default).
func TestSummarizeGuards(t *testing.T) {
	tests := []struct {
		name           string
		rs             []checks.Result
		score, max     int
		broken, cancel []string
		all            bool
	}{
		{"untouched: guards pass, scored fail", []checks.Result{guard("app-runs", checks.Pass), r("denied", checks.Fail, 2), r("restricted", checks.Fail, 1)}, 0, 3, nil, nil, false},
		{"solved", []checks.Result{guard("app-runs", checks.Pass), r("denied", checks.Pass, 2), r("restricted", checks.Pass, 1)}, 3, 3, nil, nil, true},
		{"broken guard cancels everything", []checks.Result{guard("app-runs", checks.Fail), r("denied", checks.Pass, 2), r("restricted", checks.Pass, 1)}, 0, 3, []string{"app-runs"}, []string{"denied", "restricted"}, false},
		{"broken guard cancels only what it protects", []checks.Result{guard("app-runs", checks.Fail, "restricted"), r("denied", checks.Pass, 2), r("restricted", checks.Pass, 1)}, 2, 3, []string{"app-runs"}, []string{"restricted"}, false},
		{"a guard that cannot judge protects nothing", []checks.Result{guard("app-runs", checks.Error), r("denied", checks.Pass, 2)}, 0, 2, []string{"app-runs"}, []string{"denied"}, false},
		{"two guards, one broken", []checks.Result{guard("a", checks.Pass, "x"), guard("b", checks.Fail, "y"), r("x", checks.Pass, 1), r("y", checks.Pass, 1), r("z", checks.Fail, 1)}, 1, 3, []string{"b"}, []string{"y"}, false},
		{"weight on a guard result is ignored", []checks.Result{{ID: "g", Status: checks.Pass, Guard: true, Weight: 5}, r("x", checks.Fail, 0)}, 0, 1, nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := checks.Summarize(tt.rs)
			if s.Score != tt.score || s.Max != tt.max {
				t.Errorf("score %d/%d, want %d/%d", s.Score, s.Max, tt.score, tt.max)
			}
			if !slices.Equal(s.BrokenGuards, tt.broken) || !slices.Equal(s.Cancelled, tt.cancel) {
				t.Errorf("broken %v cancelled %v, want %v %v", s.BrokenGuards, s.Cancelled, tt.broken, tt.cancel)
			}
			if s.AllPassed() != tt.all {
				t.Errorf("AllPassed %v, want %v", s.AllPassed(), tt.all)
			}
		})
	}
}

// Without guards the rule is the old one: weights of passing checks.
func TestSummarizeWithoutGuards(t *testing.T) {
	s := checks.Summarize([]checks.Result{r("a", checks.Pass, 3), r("b", checks.Fail, 0), r("c", checks.Skip, 1), r("d", checks.Error, 1)})
	if s.Score != 3 || s.Max != 6 || s.Passed != 1 || s.Failed != 1 || s.Skipped != 1 || s.Errored != 1 || s.Guards != 0 {
		t.Fatalf("%+v", s)
	}
}
