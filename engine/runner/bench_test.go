package runner_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/ckslab/ckslab/engine/checks"
)

func percentile(ds []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s))*p+0.999999) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(s) {
		i = len(s) - 1
	}
	return s[i]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkCheckScenario measures whole-scenario check latency of psp-01
// (all checks, concurrently, fresh clients each run as `ckslab check` does)
// and runs hack/bench-checks.sh — the same checks as sequential kubectl
// calls — in the same session to report the speed-up.
// Run: go test ./engine/runner -run '^$' -bench BenchmarkCheckScenario -benchtime 20x
func BenchmarkCheckScenario(b *testing.B) {
	r := newRunner(b)
	ctx := context.Background()
	if _, err := r.Start(ctx, "psp-01"); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = r.Reset(ctx) }()
	if _, err := r.Check(ctx); err != nil { // warm the discovery cache on the server side
		b.Fatal(err)
	}
	var ds []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		rs, err := r.Check(ctx)
		ds = append(ds, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if s := checks.Summarize(rs); s.Errored > 0 {
			b.Fatalf("check errored: %+v", rs)
		}
	}
	b.StopTimer()
	p50, p95 := percentile(ds, .50), percentile(ds, .95)
	b.ReportMetric(ms(p50), "p50-ms")
	b.ReportMetric(ms(p95), "p95-ms")
	line := fmt.Sprintf("ckslab check psp-01: runs=%d p50=%.1fms p95=%.1fms", len(ds), ms(p50), ms(p95))

	script := "../../hack/bench-checks.sh"
	cmd := exec.CommandContext(ctx, "bash", script, strconv.Itoa(max(b.N, 5)))
	cmd.Env = append(os.Environ(), "KUBECONFIG="+lab.Cluster.Kubeconfig)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Logf("%s\nbench-checks.sh: %v\n%s", line, err, out)
		return
	}
	m := regexp.MustCompile(`p50_ms=(\d+) p95_ms=(\d+)`).FindStringSubmatch(string(out))
	if m == nil {
		b.Logf("%s\nbench-checks.sh printed no summary:\n%s", line, out)
		return
	}
	k50, _ := strconv.ParseFloat(m[1], 64)
	k95, _ := strconv.ParseFloat(m[2], 64)
	b.ReportMetric(k50, "kubectl-p50-ms")
	b.ReportMetric(k95, "kubectl-p95-ms")
	b.ReportMetric(k50/ms(p50), "speedup-p50")
	b.Logf("%s\nkubectl script:      p50=%.0fms p95=%.0fms\nspeed-up p50 %.1fx, p95 %.1fx", line, k50, k95, k50/ms(p50), k95/ms(p95))
}

// BenchmarkResetSetup measures seeding psp-01 and resetting it on a warm
// local cluster (target median < 3s).
// Run: go test ./engine/runner -run '^$' -bench BenchmarkResetSetup -benchtime 10x
func BenchmarkResetSetup(b *testing.B) {
	r := newRunner(b)
	ctx := context.Background()
	var total, setups, resets []time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := r.Start(ctx, "psp-01"); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := r.Reset(ctx); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		setups, resets, total = append(setups, t1.Sub(t0)), append(resets, t2.Sub(t1)), append(total, t2.Sub(t0))
	}
	b.ReportMetric(ms(percentile(total, .5)), "median-ms")
	b.ReportMetric(ms(percentile(setups, .5)), "setup-median-ms")
	b.ReportMetric(ms(percentile(resets, .5)), "reset-median-ms")
	b.Logf("setup+reset psp-01: runs=%d median=%.0fms (setup %.0fms, reset %.0fms) max=%.0fms",
		len(total), ms(percentile(total, .5)), ms(percentile(setups, .5)), ms(percentile(resets, .5)), ms(percentile(total, 1)))
}
