package existing

import (
	"fmt"
	"strings"
	"time"
)

// reach is one connection attempt of the NetworkPolicy probe.
type reach int

const (
	// reachError: the attempt itself failed (exec refused, stream broken):
	// it says nothing about the network.
	reachError reach = iota
	// reachOpen: the server's own answer came back.
	reachOpen
	// reachClosed: the command ran and no answer came.
	reachClosed
)

// probeMarker is what the probe server answers.
const probeMarker = "ckslab-probe"

// classify sorts one attempt: open only with the server's answer, closed
// only when the command ran (exit status, any) without it, else an error.
func classify(out string, err error) reach {
	switch {
	case strings.Contains(out, probeMarker):
		return reachOpen
	case err == nil || exitCode(err) >= 0:
		return reachClosed
	}
	return reachError
}

// closedInARow is how many consecutive closed attempts prove a block.
const closedInARow = 3

// netpolSteps is the NetworkPolicy probe's logic over seams: open without
// a policy, closed (closedInARow times in a row) under a deny-all ingress
// policy, and open again once it is deleted, so a block is the policy's
// doing and not a flaky network.
type netpolSteps struct {
	try         func() reach
	deny, allow func() error
	wait, poll  time.Duration
	// sleep waits d; false when the probe is interrupted.
	sleep func(d time.Duration) bool
}

// until polls try until want holds (n times in a row), for at most s.wait.
func (s netpolSteps) until(want reach, n int) (bool, int) {
	deadline := time.Now().Add(s.wait)
	row, errs := 0, 0
	for {
		switch r := s.try(); r {
		case want:
			row++
			if row >= n {
				return true, errs
			}
		case reachError:
			errs++
		default:
			row = 0
		}
		if time.Now().After(deadline) || !s.sleep(s.poll) {
			return false, errs
		}
	}
}

func (s netpolSteps) run(target string) (enforced bool, detail string, err error) {
	if ok, errs := s.until(reachOpen, 1); !ok {
		return false, "", fmt.Errorf("the client pod never reached the server pod %s without any policy (%d attempts failed to run)", target, errs)
	}
	if err := s.deny(); err != nil {
		return false, "", fmt.Errorf("create the deny-all probe policy: %w", err)
	}
	applied := time.Now()
	ok, errs := s.until(reachClosed, closedInARow)
	if !ok {
		if errs > 0 {
			return false, "", fmt.Errorf("inconclusive: under a deny-all ingress policy %d attempts failed to run and no %d in a row were blocked", errs, closedInARow)
		}
		return false, fmt.Sprintf("not enforced: the client pod still reaches the server pod %s after a deny-all ingress policy", s.wait), nil
	}
	blocked := time.Since(applied)
	if err := s.allow(); err != nil {
		return false, "", fmt.Errorf("delete the deny-all probe policy: %w", err)
	}
	if ok, _ := s.until(reachOpen, 1); !ok {
		return false, "", fmt.Errorf("inconclusive: blocked under the deny-all policy, but still blocked after it was deleted (the network, not the policy?)")
	}
	return true, fmt.Sprintf("enforced: open without policy, blocked %.1fs after a deny-all ingress policy (%d attempts in a row), open again without it", blocked.Seconds(), closedInARow), nil
}
