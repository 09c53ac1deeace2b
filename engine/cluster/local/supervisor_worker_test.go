package local

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

// workerRig runs one supervisor worker (etcd) on a fake clock, its process
// replaced by runs the test answers: no real process, no real waits.
type workerRig struct {
	t     *testing.T
	s     *supervisor
	clock *clocktesting.FakeClock
	w     *podWorker
	runs  chan struct{}
	exits chan fakeExit
}

type fakeExit struct {
	desc    string
	changed bool
	ran     time.Duration
}

const rigManifest = "apiVersion: v1\nkind: Pod\nmetadata: {name: etcd}\nspec:\n  containers:\n  - name: etcd\n    command: [etcd, --v=%d]\n"

func newWorkerRig(t *testing.T) *workerRig {
	t.Helper()
	fc := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := newSupervisor(t.TempDir(), &nodeConfig{Binaries: Binaries{"etcd": "/bin/true"}}, fc, &strings.Builder{})
	r := &workerRig{t: t, s: s, clock: fc, runs: make(chan struct{}), exits: make(chan fakeExit)}
	s.runProcess = func(ctx context.Context, _ *podWorker, _ *launchSpec) (string, bool) {
		select {
		case r.runs <- struct{}{}:
		case <-ctx.Done():
			return "stopped", false
		}
		select {
		case e := <-r.exits:
			fc.Step(e.ran)
			return e.desc, e.changed
		case <-ctx.Done():
			return "stopped", false
		}
	}
	data := []byte(fmt.Sprintf(rigManifest, 1))
	ctx, cancel := context.WithCancel(context.Background())
	r.w = &podWorker{name: compEtcd, cancel: cancel, done: make(chan struct{}), notify: make(chan struct{}, 1),
		restart: make(chan struct{}, 1), desired: data, hash: contentHash(data)}
	s.workers[compEtcd] = r.w
	s.state.Components[compEtcd] = &componentStatus{Name: compEtcd}
	go func() {
		defer close(r.w.done)
		s.runWorker(ctx, r.w)
	}()
	t.Cleanup(func() {
		cancel()
		<-r.w.done
	})
	return r
}

// started waits (in real time, bounded) until the worker runs its process.
func (r *workerRig) started() {
	r.t.Helper()
	select {
	case <-r.runs:
	case <-time.After(10 * time.Second):
		r.t.Fatal("the worker did not start its process")
	}
}

// notStarted reports whether the worker is (still) not running a process.
func (r *workerRig) notStarted() bool {
	select {
	case <-r.runs:
		return false
	default:
		return true
	}
}

// waiting waits until the worker sleeps on the fake clock and returns its
// status then.
func (r *workerRig) waiting() componentStatus {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !r.clock.HasWaiters() {
		if time.Now().After(deadline) {
			r.t.Fatal("the worker never waited on its clock")
		}
		time.Sleep(time.Millisecond)
	}
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return *r.s.state.Components[compEtcd]
}

// crash makes the running process exit after ran and checks that the
// worker then waits exactly want before starting it again.
func (r *workerRig) crash(ran, want time.Duration) {
	r.t.Helper()
	r.exits <- fakeExit{desc: "exited: exit status 1", ran: ran}
	st := r.waiting()
	if !strings.Contains(st.LastError, fmt.Sprintf("back-off %s restarting", want)) || st.Phase != phaseCrashLoopBackOff {
		r.t.Fatalf("after a crash: phase %s, %q; want back-off %s", st.Phase, st.LastError, want)
	}
	r.clock.Step(want - time.Millisecond)
	if !r.clock.HasWaiters() || !r.notStarted() {
		r.t.Fatalf("restarted before the %s back-off ran out", want)
	}
	r.clock.Step(time.Millisecond)
	r.started()
}

// TestWorkerBackoff: crash after crash the restart delay doubles from 1 s
// to at most 10 s; a process that ran more than 30 s before dying starts
// over at 1 s; each crash counts a restart.
func TestWorkerBackoff(t *testing.T) {
	r := newWorkerRig(t)
	r.started()
	for _, want := range []int{1, 2, 4, 8, 10, 10} {
		r.crash(time.Second, time.Duration(want)*time.Second)
	}
	r.crash(31*time.Second, time.Second)
	r.crash(time.Second, 2*time.Second)
	r.crash(30*time.Second, 4*time.Second) // exactly 30 s is not "a while"
	r.s.mu.Lock()
	restarts := r.s.state.Components[compEtcd].Restarts
	r.s.mu.Unlock()
	if restarts != 9 {
		t.Fatalf("restarts %d, want 9", restarts)
	}
}

// TestWorkerManifestChangeRestartsAtOnce: a manifest edit during a back-off
// starts the new manifest at once and the back-off over (1 s after the
// next crash); a process stopped for a manifest change or an apiserver
// restart starts again with no delay.
func TestWorkerManifestChangeRestartsAtOnce(t *testing.T) {
	r := newWorkerRig(t)
	r.started()
	for _, want := range []int{1, 2, 4} {
		r.crash(time.Second, time.Duration(want)*time.Second)
	}
	r.exits <- fakeExit{desc: "exited: exit status 1", ran: time.Second}
	if st := r.waiting(); !strings.Contains(st.LastError, "back-off 8s") {
		t.Fatalf("status %q, want back-off 8s", st.LastError)
	}
	data := []byte(fmt.Sprintf(rigManifest, 2))
	r.w.mu.Lock()
	r.w.desired, r.w.hash = data, contentHash(data)
	r.w.mu.Unlock()
	r.w.notify <- struct{}{}
	r.started() // no clock step: at once
	r.crash(time.Second, time.Second)

	r.exits <- fakeExit{desc: "manifest changed", changed: true}
	r.started()
	r.exits <- fakeExit{desc: exitRestartAfterAPI, changed: true}
	r.started()
	r.s.mu.Lock()
	restarts := r.s.state.Components[compEtcd].Restarts
	r.s.mu.Unlock()
	// 5 crashes + the apiserver restart; a manifest change is no restart.
	if restarts != 6 {
		t.Fatalf("restarts %d, want 6", restarts)
	}
	r.crash(time.Second, time.Second)
}

// TestWorkerInvalidManifestWaitsForAnEdit: an invalid manifest is not
// retried on a timer (nothing could change it but an edit); the fixed
// manifest starts at once.
func TestWorkerInvalidManifestWaitsForAnEdit(t *testing.T) {
	r := newWorkerRig(t)
	r.started()
	bad := []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: etcd}\nspec: {containers: []}\n")
	r.w.mu.Lock()
	r.w.desired, r.w.hash = bad, contentHash(bad)
	r.w.mu.Unlock()
	r.exits <- fakeExit{desc: "manifest changed", changed: true}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.s.mu.Lock()
		phase := r.s.state.Components[compEtcd].Phase
		r.s.mu.Unlock()
		if phase == phaseInvalidManifest {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("phase %s, want %s", phase, phaseInvalidManifest)
		}
		time.Sleep(time.Millisecond)
	}
	r.clock.Step(time.Hour)
	if r.clock.HasWaiters() || !r.notStarted() {
		t.Fatal("an invalid manifest was retried on a timer")
	}
	good := []byte(fmt.Sprintf(rigManifest, 3))
	r.w.mu.Lock()
	r.w.desired, r.w.hash = good, contentHash(good)
	r.w.mu.Unlock()
	r.w.notify <- struct{}{}
	r.started()
}

// TestRestartControllerManagerRule: a ready kube-apiserver restarts the
// controller-manager only when it is not the node's first apiserver and
// the controller-manager has run since before it.
func TestRestartControllerManagerRule(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name      string
		apiStarts int
		kcmSince  time.Time
		running   bool
		want      bool
	}{
		{"first apiserver", 1, t0, true, false},
		{"restarted apiserver, older kcm", 2, t0, true, true},
		{"kcm started after the apiserver", 2, t0.Add(2 * time.Minute), true, false},
		{"kcm not running", 3, t0, false, false},
	} {
		s := newSupervisor(t.TempDir(), &nodeConfig{}, clocktesting.NewFakeClock(t0), &strings.Builder{})
		w := &podWorker{name: compKCM, restart: make(chan struct{}, 1)}
		s.workers[compKCM] = w
		s.apiStarts = tt.apiStarts
		s.state.Components[compAPI] = &componentStatus{Name: compAPI, Running: true, Since: t0.Add(time.Minute)}
		s.state.Components[compKCM] = &componentStatus{Name: compKCM, Running: tt.running, Since: tt.kcmSince}
		s.restartControllerManager()
		got := len(w.restart) == 1
		if got != tt.want {
			t.Errorf("%s: restart asked %v, want %v", tt.name, got, tt.want)
		}
	}
}
