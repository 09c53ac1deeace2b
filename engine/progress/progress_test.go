package progress

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestRecordFlow(t *testing.T) {
	t.Parallel()
	st := Open(t.TempDir())
	t0 := time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)
	must(t, st.StartAttempt("psp-01", t0))
	must(t, st.RecordHint("psp-01", 1, t0.Add(time.Minute)))
	must(t, st.RecordCheck("psp-01", Check{Score: 3, Max: 6, At: t0.Add(2 * time.Minute)}))
	must(t, st.RecordCheck("psp-01", Check{Score: 6, Max: 6, Passed: true, At: t0.Add(5 * time.Minute)}))
	d, err := st.Load()
	must(t, err)
	sc := d.Get("psp-01")
	if sc.Attempts != 1 || sc.Checks != 2 || sc.HintsUsed != 1 || !sc.Solved {
		t.Fatalf("unexpected record %+v", sc)
	}
	if sc.BestScore != 5 || sc.BestMax != 6 {
		t.Errorf("best = %d/%d, want 5/6 (penalty 1)", sc.BestScore, sc.BestMax)
	}
	if sc.TimeSpent != 5*time.Minute || sc.BestTime != 5*time.Minute {
		t.Errorf("time = %v best %v, want 5m", sc.TimeSpent, sc.BestTime)
	}
	// A second attempt resets the penalty and adds its own time.
	t1 := t0.Add(time.Hour)
	must(t, st.StartAttempt("psp-01", t1))
	must(t, st.RecordCheck("psp-01", Check{Score: 6, Max: 6, Passed: true, At: t1.Add(2 * time.Minute)}))
	d, _ = st.Load()
	sc = d.Get("psp-01")
	if sc.Attempts != 2 || sc.BestScore != 6 || sc.TimeSpent != 7*time.Minute || sc.BestTime != 2*time.Minute {
		t.Fatalf("second attempt: %+v", sc)
	}
	info, err := os.Stat(st.Path)
	must(t, err)
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", info.Mode().Perm())
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(st.Path), ".progress-*"))
	if len(left) != 0 {
		t.Errorf("temp files left behind: %v", left)
	}
}

func TestConcurrentUpdatesAreNotLost(t *testing.T) {
	t.Parallel()
	st := Open(t.TempDir())
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); must(t, st.RecordHint("x", 1, time.Time{})) }()
	}
	wg.Wait()
	d, _ := st.Load()
	if got := d.Get("x").HintsUsed; got != 20 {
		t.Fatalf("hints = %d, want 20", got)
	}
}

func TestCorruptFileIsAClearError(t *testing.T) {
	t.Parallel()
	st := Open(t.TempDir())
	must(t, os.WriteFile(st.Path, []byte("{"), 0o600))
	if _, err := st.Load(); err == nil {
		t.Fatal("want error")
	}
}

func TestExam(t *testing.T) {
	t.Parallel()
	st := Open(t.TempDir())
	must(t, st.RecordExam(Exam{Score: 50, Max: 100, Percent: 50}))
	d, _ := st.Load()
	if len(d.Exams) != 1 || d.Exams[0].Score != 50 {
		t.Fatalf("%+v", d.Exams)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
