package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
)

// ExecFiles implements a Node's file methods with commands run through its
// Exec (cat, an atomic write script, rm -f, stat), for nodes reached only by
// running commands in them: a kind node container, a node-access pod.
type ExecFiles struct {
	// Node names the node in errors.
	Node string
	// Exec runs argv on the node (the Node's own Exec).
	Exec func(ctx context.Context, stdin io.Reader, argv ...string) ([]byte, error)
	// Hint, when set, follows an error other than a missing file (what to
	// check, e.g. whether the node runs).
	Hint string
}

// ReadFile returns the content of path on the node. Output is combined, so
// an error message is never read as content: cat fails whenever it printed
// one.
func (f ExecFiles) ReadFile(ctx context.Context, p string) ([]byte, error) {
	out, err := f.Exec(ctx, nil, "cat", "--", p)
	if err != nil {
		return nil, f.fileErr("read", p, out, err)
	}
	return out, nil
}

// WriteFileScript writes stdin to a hidden temporary file next to the target
// (the kubelet ignores dot-files in its manifest directory, so it never sees
// a half-written static pod) and renames it into place.
const WriteFileScript = `set -e; d=$(dirname "$1"); mkdir -p "$d"; t="$d/.$(basename "$1").ckslab-tmp"; cat > "$t"; chmod "$2" "$t"; mv -f "$t" "$1"`

// WriteFile writes data to path on the node with mode, creating parent directories.
func (f ExecFiles) WriteFile(ctx context.Context, p string, data []byte, mode fs.FileMode) error {
	out, err := f.Exec(ctx, bytes.NewReader(data), "sh", "-c", WriteFileScript, "sh", p, fmt.Sprintf("%04o", mode.Perm()))
	if err != nil {
		return f.fileErr("write", p, out, err)
	}
	return nil
}

// Remove deletes path; a missing file is not an error.
func (f ExecFiles) Remove(ctx context.Context, p string) error {
	out, err := f.Exec(ctx, nil, "rm", "-f", "--", p)
	if err != nil {
		return f.fileErr("remove", p, out, err)
	}
	return nil
}

// Stat returns the permission bits of path.
func (f ExecFiles) Stat(ctx context.Context, p string) (fs.FileMode, error) {
	out, err := f.Exec(ctx, nil, "stat", "-c", "%a", "--", p)
	if err != nil {
		return 0, f.fileErr("stat", p, out, err)
	}
	v, perr := strconv.ParseUint(strings.TrimSpace(string(out)), 8, 32)
	if perr != nil {
		return 0, fmt.Errorf("stat %s on node %s: unexpected mode %q", p, f.Node, strings.TrimSpace(string(out)))
	}
	return fs.FileMode(v), nil
}

func (f ExecFiles) fileErr(op, p string, out []byte, err error) error {
	var ee *ExitError
	if errors.As(err, &ee) && bytes.Contains(out, []byte("No such file or directory")) {
		return fmt.Errorf("%s %s on node %s: %w", op, p, f.Node, fs.ErrNotExist)
	}
	if f.Hint != "" {
		return fmt.Errorf("%s %s on node %s: %w (%s)", op, p, f.Node, err, f.Hint)
	}
	return fmt.Errorf("%s %s on node %s: %w", op, p, f.Node, err)
}
