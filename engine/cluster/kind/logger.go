package kind

import (
	"fmt"
	"strings"

	kindlog "sigs.k8s.io/kind/pkg/log"

	"github.com/ckslab/ckslab/engine/cluster"
)

// stepLogger adapts kind's log.Logger to ckslab progress steps. kind reports
// phases as " • Title  ..." when started and " ✓ Title" / " ✗ Title" when
// they end (its non-spinner status format); each phase becomes one Step, and
// any other line is attached to the current step.
type stepLogger struct {
	progress  cluster.ProgressFunc
	verbosity kindlog.Level
	current   cluster.Step
}

func newStepLogger(progress cluster.ProgressFunc, verbosity kindlog.Level) *stepLogger {
	return &stepLogger{progress: progress, verbosity: verbosity, current: cluster.Step{ID: "kind-create", Title: "Create kind cluster"}}
}

var _ kindlog.Logger = (*stepLogger)(nil)

func (l *stepLogger) Warn(message string) { l.line("warning: " + message) }
func (l *stepLogger) Warnf(format string, args ...interface{}) {
	l.Warn(fmt.Sprintf(format, args...))
}
func (l *stepLogger) Error(message string) { l.line("error: " + message) }
func (l *stepLogger) Errorf(format string, args ...interface{}) {
	l.Error(fmt.Sprintf(format, args...))
}

func (l *stepLogger) V(level kindlog.Level) kindlog.InfoLogger {
	return infoLogger{l: l, enabled: level <= l.verbosity}
}

type infoLogger struct {
	l       *stepLogger
	enabled bool
}

func (i infoLogger) Info(message string) {
	if i.enabled {
		i.l.info(message)
	}
}
func (i infoLogger) Infof(format string, args ...interface{}) {
	if i.enabled {
		i.l.info(fmt.Sprintf(format, args...))
	}
}
func (i infoLogger) Enabled() bool { return i.enabled }

func (l *stepLogger) info(message string) {
	for _, raw := range strings.Split(message, "\n") {
		line := strings.TrimSpace(raw)
		switch {
		case line == "":
		case strings.HasPrefix(line, "• "):
			title := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(line, "• "), "..."))
			l.current = cluster.Step{ID: stepID(title), Title: title}
			l.progress.Report(l.current)
		case strings.HasPrefix(line, "✓ "):
			s := l.current
			s.Done = true
			l.progress.Report(s)
		case strings.HasPrefix(line, "✗ "):
			s := l.current
			s.Done = true
			s.Err = fmt.Errorf("kind: %s failed", s.Title)
			l.progress.Report(s)
		default:
			l.line(line)
		}
	}
}

func (l *stepLogger) line(line string) {
	s := l.current
	s.Line = line
	l.progress.Report(s)
}

// stepID makes a stable id from a kind phase title ("Preparing nodes 📦 📦" -> "kind-preparing-nodes").
func stepID(title string) string {
	var b strings.Builder
	b.WriteString("kind")
	dash := true
	for _, r := range strings.ToLower(title) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		case r == '(':
			// "Ensuring node image (kindest/node:...)": the image is not part of the id.
			return b.String()
		default:
			dash = true
		}
	}
	return b.String()
}
