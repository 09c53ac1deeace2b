package local

import (
	"context"
	"fmt"
	"time"
)

const (
	// initialBackoff is the first CrashLoopBackOff delay; each wait that
	// ends without a manifest change doubles it, up to maxBackoff.
	initialBackoff = time.Second
	// freshRunAfter: a component that ran this long before dying starts a
	// fresh back-off (the kubelet's is 10 min; local components are
	// restarted by edits far more often than they crash).
	freshRunAfter = 30 * time.Second
)

// crashBackoff is one worker's restart delay: initialBackoff, doubled
// after every wait that runs out, at most maxBackoff; reset when the
// manifest changes or the component ran freshRunAfter.
type crashBackoff struct{ d time.Duration }

func (b *crashBackoff) delay() time.Duration {
	if b.d == 0 {
		return initialBackoff
	}
	return b.d
}

func (b *crashBackoff) grow()  { b.d = min(b.delay()*2, maxBackoff) }
func (b *crashBackoff) reset() { b.d = initialBackoff }

// runWorker keeps one static pod running at its latest manifest, with
// CrashLoopBackOff-style delays, until ctx ends or the manifest is removed.
func (s *supervisor) runWorker(ctx context.Context, w *podWorker) {
	defer func() {
		s.mu.Lock()
		if s.workers[w.name] == nil {
			// Manifest removed: the pod disappears, as on a kubelet.
			delete(s.state.Components, w.name)
		} else if c := s.state.Components[w.name]; c != nil && s.workers[w.name] == w {
			c.Running, c.Ready, c.PID, c.Phase = false, false, 0, phaseStopped
		}
		s.mu.Unlock()
		s.markDirty()
	}()
	var backoff crashBackoff
	// waitChangeOr waits d (forever when d is 0) or until the manifest
	// changes, which starts the back-off over; false when ctx ended.
	waitChangeOr := func(d time.Duration) bool {
		var t <-chan time.Time
		if d > 0 {
			timer := s.clock.NewTimer(d)
			defer timer.Stop()
			t = timer.C()
		}
		select {
		case <-ctx.Done():
			return false
		case <-w.notify:
			backoff.reset()
		case <-t:
			backoff.grow()
		}
		return true
	}
	if w.holdForAPI {
		if !s.holdForAPI(ctx) {
			return
		}
	}
	for {
		data, hash := w.latest()
		spec, err := parseStaticPod(s.nodeDir, w.name, s.cfg.Binaries, data)
		if err != nil {
			s.update(w, func(c *componentStatus) {
				c.Phase, c.ManifestHash, c.Running, c.Ready, c.PID = phaseInvalidManifest, hash, false, false, 0
				c.LastError = fmt.Sprintf("static pod manifest %s/%s.yaml: %v", manifestsPath, w.name, err)
				c.Since = s.clock.Now()
			})
			if !waitChangeOr(0) {
				return
			}
			continue
		}
		if err := spec.prepareVolumes(); err != nil {
			s.update(w, func(c *componentStatus) {
				c.Phase, c.ManifestHash, c.Running, c.Ready, c.PID = phaseCreateError, hash, false, false, 0
				c.Args, c.HostArgs = spec.argv, spec.hostArgs
				c.LastError, c.Since = err.Error(), s.clock.Now()
			})
			// The missing file may appear later, so retry like the kubelet.
			if !waitChangeOr(backoff.delay()) {
				return
			}
			continue
		}
		if w.name == compKCM {
			s.releaseDeadLeaderLease(ctx)
		}
		started := s.clock.Now()
		exit, changed := s.runProcess(ctx, w, spec)
		if ctx.Err() != nil {
			return
		}
		if exit == exitRestartAfterAPI {
			s.update(w, func(c *componentStatus) { c.Restarts++ })
		}
		if changed {
			backoff.reset()
			continue
		}
		// A component that ran a while before dying starts a fresh backoff.
		if s.clock.Since(started) > freshRunAfter {
			backoff.reset()
		}
		s.update(w, func(c *componentStatus) {
			c.Restarts++
			c.Phase, c.Running, c.Ready, c.PID = phaseCrashLoopBackOff, false, false, 0
			c.LastError = fmt.Sprintf("%s: back-off %s restarting failed container %s", exit, backoff.delay(), w.name)
		})
		if !waitChangeOr(backoff.delay()) {
			return
		}
	}
}

// holdForAPI delays the node's first start of kube-controller-manager until
// kube-apiserver reports ready (at most kcmStartHold, and not at all when
// there is no kube-apiserver pod). Started together, the controller-manager
// only competes for CPU with the apiserver's own start and then, its first
// leader-lease attempt refused, sleeps its 2-4.4s retry period after the
// API is up; started after, it takes the lease at once. A kubelet has no
// such ordering; this only changes when the process starts, never what it
// runs. It returns false if ctx ended.
func (s *supervisor) holdForAPI(ctx context.Context) bool {
	deadline := s.clock.Now().Add(kcmStartHold)
	for s.clock.Now().Before(deadline) {
		s.mu.Lock()
		api, present := s.state.Components[compAPI], s.workers[compAPI] != nil
		ready := api != nil && api.Ready
		s.mu.Unlock()
		if ready || !present {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-s.clock.After(20 * time.Millisecond):
		}
	}
	return true
}
