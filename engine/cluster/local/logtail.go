package local

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// logTail copies a process's output into its log file (with host paths
// mapped back to node paths) and keeps the last lines for the state file.
type logTail struct {
	file   io.Writer
	mapper *pathMapper
	max    int
	mu     sync.Mutex
	buf    []string
}

func (t *logTail) copyFrom(r io.ReadCloser, changed func()) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	last := time.Time{}
	for sc.Scan() {
		line := t.mapper.unmap(sc.Text())
		_, _ = io.WriteString(t.file, line+"\n")
		t.mu.Lock()
		t.buf = append(t.buf, line)
		if len(t.buf) > t.max {
			t.buf = t.buf[len(t.buf)-t.max:]
		}
		t.mu.Unlock()
		// Chatty components log hundreds of lines at start; publish at most
		// twice a second.
		if time.Since(last) > 500*time.Millisecond {
			last = time.Now()
			changed()
		}
	}
	changed()
}

func (t *logTail) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.buf...)
}
