package pack

import (
	"archive/tar"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGitAddUpdateRemove(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := copyFixture(t)
	src, first := gitRepo(t, repo)
	m := New(t.TempDir(), "v1.0.0")

	var asked []Summary
	confirmYes := func(_ context.Context, s Summary) (string, error) { asked = append(asked, s); return "prompt", nil }
	res, err := m.Add(ctx, AddOptions{Source: src, Confirm: confirmYes})
	if err != nil {
		t.Fatal(err)
	}
	if len(asked) != 1 || asked[0].Pack != "sample" {
		t.Fatalf("confirm calls = %+v, want one for sample", asked)
	}
	if res.Pack.Resolved != "git:"+first || res.Pack.Kind != KindGit || res.Pack.Acknowledged.By != "prompt" {
		t.Errorf("locked = %+v", res.Pack)
	}
	if _, err := os.Stat(filepath.Join(m.Dir("sample"), ".git")); !os.IsNotExist(err) {
		t.Errorf(".git kept in the installed pack: %v", err)
	}
	if diff := cmp.Diff([]string{"sample/psp-01 (pack:sample)"}, catalogIDs(t, m)); diff != "" {
		t.Errorf("catalog (-want +got):\n%s", diff)
	}

	// Nothing new upstream: update is a no-op.
	res, err = m.Update(ctx, "sample", UpdateOptions{})
	if err != nil || res.Changed {
		t.Fatalf("update without changes = %+v, %v", res, err)
	}

	// A new commit that only edits text installs without asking again.
	writeFile(t, repo, scenarioRel, strings.Replace(readFile(t, filepath.Join(repo, scenarioRel)), "Security wants", "The security team wants", 1))
	second := gitCommit(t, repo, "wording")
	res, err = m.Update(ctx, "sample", UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.Pack.Resolved != "git:"+second || len(asked) != 1 {
		t.Fatalf("update = %+v, confirm calls %d", res.Pack, len(asked))
	}
	if got := readFile(t, filepath.Join(m.Dir("sample"), scenarioRel)); !strings.Contains(got, "The security team wants") {
		t.Errorf("installed scenario not updated")
	}

	// A commit adding a node command changes the summary: the learner is
	// asked again, and saying no keeps the installed pack as it was.
	sc := readFile(t, filepath.Join(repo, scenarioRel))
	writeFile(t, repo, scenarioRel, strings.Replace(sc, "  setup:\n", "  setup:\n  - node: {exec: {command: [touch, /tmp/x]}}\n", 1))
	gitCommit(t, repo, "node exec")
	before, ids := snapshot(t, m.StateRoot), catalogIDs(t, m)
	_, err = m.Update(ctx, "sample", UpdateOptions{Confirm: func(_ context.Context, s Summary) (string, error) {
		if len(s.NodeExec) != 1 || s.NodeExec[0].Detail != "touch /tmp/x" {
			t.Errorf("summary node exec = %+v", s.NodeExec)
		}
		return "", errors.New("declined at the prompt")
	}})
	var r *Refusal
	if !errors.As(err, &r) {
		t.Fatalf("declined update: err = %v, want a refusal", err)
	}
	assertUntouched(t, m, before, ids)
	if _, err := m.Update(ctx, "sample", UpdateOptions{Confirm: yes}); err != nil {
		t.Fatal(err)
	}
	st, err := m.List(ctx)
	if err != nil || len(st) != 1 || st[0].State != "ok" || st[0].Acknowledged.By != "--yes" {
		t.Fatalf("list = %+v, %v", st, err)
	}

	// A local edit is visible in list.
	writeFile(t, m.Dir("sample"), "extra.txt", "x")
	if st, _ := m.List(ctx); st[0].State != "modified" {
		t.Errorf("state after local edit = %s, want modified", st[0].State)
	}

	if err := m.Remove(ctx, "sample"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(m.Dir("sample")); !os.IsNotExist(err) {
		t.Errorf("pack dir still present after remove: %v", err)
	}
	if ids := catalogIDs(t, m); len(ids) != 0 {
		t.Errorf("catalog after remove = %v", ids)
	}
	if err := m.Remove(ctx, "sample"); err == nil || !strings.Contains(err.Error(), "pack list") {
		t.Errorf("second remove: %v", err)
	}
}

func TestArchiveAdd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	entries := treeEntries(t, fixture, "sample-1.0.0/") // release tarballs wrap one top directory
	tgz, zipped := tarGz(t, entries), zipBytes(t, treeEntries(t, fixture, ""))
	base := serve(t, map[string][]byte{"/sample.tar.gz": tgz, "/sample.zip": zipped})
	tests := []struct {
		name, source, checksum, want string
	}{
		{"tar.gz with --checksum", base + "/sample.tar.gz", sha(tgz), sha(tgz)},
		{"tar.gz with ?checksum=", base + "/sample.tar.gz?checksum=" + sha(tgz), "", sha(tgz)},
		{"zip on loopback http without checksum", base + "/sample.zip", "", sha(zipped)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := New(t.TempDir(), "dev")
			res, err := m.Add(ctx, AddOptions{Source: tt.source, Checksum: tt.checksum, Name: "s", Confirm: yes})
			if err != nil {
				t.Fatal(err)
			}
			if res.Pack.Resolved != tt.want || res.Pack.Kind != KindArchive {
				t.Errorf("locked = %+v, want resolved %s", res.Pack, tt.want)
			}
			if _, err := os.Stat(filepath.Join(m.Dir("s"), scenarioRel)); err != nil {
				t.Errorf("scenario not installed: %v", err)
			}
		})
	}
}

func TestDirAddPinnedByTree(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := copyFixture(t)
	m := New(t.TempDir(), "dev")
	res, err := m.Add(ctx, AddOptions{Source: dir, Confirm: yes})
	if err != nil {
		t.Fatal(err)
	}
	// Installing the same content elsewhere with the tree hash as pin works.
	if _, err := m.Add(ctx, AddOptions{Source: dir, Name: "again", Checksum: res.Pack.Tree, Confirm: yes}); err != nil {
		t.Fatal(err)
	}
}

// TestRefusals proves each unsafe or broken pack is refused with a clear
// reason and leaves the installed packs and the catalog byte-for-byte
// untouched. Its subtests run in order: they share one Manager (and set
// its Limits) and compare its state before and after each refusal.
func TestRefusals(t *testing.T) { //nolint:tparallel // subtests share one Manager and its Limits, so they must not run in parallel
	t.Parallel()
	ctx := context.Background()
	good := treeEntries(t, fixture, "")
	with := func(extra ...entry) []entry { return append(append([]entry{}, good...), extra...) }
	broken := strings.Replace(readFile(t, filepath.Join(fixture, scenarioRel)), "  difficulty: medium\n", "  difficulty: impossible\n  colour: blue\n", 1)
	replaced := func(rel, body string) []entry {
		var out []entry
		for _, e := range good {
			if e.name == rel {
				e.body = body
			}
			out = append(out, e)
		}
		return out
	}
	big := strings.Repeat("0123456789abcdef", 40<<10) // 640 KiB, compresses well
	tgzGood := tarGz(t, good)

	outside := t.TempDir()
	symlinkDir := copyFixture(t)
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(symlinkDir, "minimize-microservice-vulnerabilities", "psp-01", "manifests", "secret.yaml")); err != nil {
		t.Fatal(err)
	}
	symlinkRepo := copyFixture(t)
	if err := os.Symlink("/etc/passwd", filepath.Join(symlinkRepo, "passwd")); err != nil {
		t.Fatal(err)
	}
	symlinkGit, _ := gitRepo(t, symlinkRepo)

	files := map[string][]byte{
		"/good.tar.gz":      tgzGood,
		"/dotdot.tar.gz":    tarGz(t, with(entry{name: "../escape.txt", body: "x"})),
		"/dotdot2.tar.gz":   tarGz(t, with(entry{name: "minimize-microservice-vulnerabilities/../../escape.txt", body: "x"})),
		"/abs.tar.gz":       tarGz(t, with(entry{name: "/etc/cron.d/x", body: "x"})),
		"/symlink.tar.gz":   tarGz(t, with(entry{name: "passwd", typeflag: tar.TypeSymlink, link: "/etc/passwd"})),
		"/hardlink.tar.gz":  tarGz(t, with(entry{name: "passwd", typeflag: tar.TypeLink, link: "../../../etc/passwd"})),
		"/device.tar.gz":    tarGz(t, with(entry{name: "null", typeflag: tar.TypeChar})),
		"/symlink.zip":      zipBytes(t, with(entry{name: "passwd", typeflag: tar.TypeSymlink, link: "/etc/passwd"})),
		"/dotdot.zip":       zipBytes(t, with(entry{name: "../escape.txt", body: "x"})),
		"/big.tar.gz":       tarGz(t, with(entry{name: "docs/big.txt", body: big})),
		"/random.tar.gz":    tarGz(t, with(entry{name: "docs/random.bin", body: random(64 << 10)})),
		"/bigscenario.zip":  zipBytes(t, with(entry{name: "minimize-microservice-vulnerabilities/psp-01/notes.txt", body: big[:300<<10]})),
		"/manyfiles.tar.gz": tarGz(t, with(manyFiles(60)...)),
		"/invalid.tar.gz":   tarGz(t, replaced(scenarioRel, broken)),
		"/nomanifest.zip":   zipBytes(t, replaced("pack.yaml", "apiVersion: ckslab.dev/v1alpha1\nkind: Pack\nname: Not_A_Label\nversion: 1\nhomepage: x\n")),
		"/newer.tar.gz":     tarGz(t, replaced("pack.yaml", "apiVersion: ckslab.dev/v1alpha1\nkind: Pack\nname: sample\nversion: 2.0.0\nminCkslabVersion: v9.0.0\n")),
		"/notgzip.tar.gz":   []byte("this is not an archive"),
	}
	base := serve(t, files)

	tests := []struct {
		name     string
		opts     AddOptions
		wantErr  string // substring of the error
		refusal  bool   // the error is a *Refusal
		limits   Limits
		notAGoal bool
	}{
		{name: "checksum mismatch", opts: AddOptions{Source: base + "/good.tar.gz", Checksum: "sha256:" + strings.Repeat("0", 64)}, wantErr: "does not match the pinned checksum sha256:0000", refusal: true},
		{name: "checksum mismatch in URL", opts: AddOptions{Source: base + "/good.tar.gz?checksum=sha256:" + strings.Repeat("1", 64)}, wantErr: "which does not match the pinned checksum sha256:1111", refusal: true},
		{name: "malformed checksum", opts: AddOptions{Source: base + "/good.tar.gz", Checksum: "md5:abc"}, wantErr: "must be sha256:", refusal: true},
		{name: "tar with ../ entry", opts: AddOptions{Source: base + "/dotdot.tar.gz"}, wantErr: "escapes the pack directory", refusal: true},
		{name: "tar with nested ../ entry", opts: AddOptions{Source: base + "/dotdot2.tar.gz"}, wantErr: "escapes the pack directory", refusal: true},
		{name: "tar with absolute entry", opts: AddOptions{Source: base + "/abs.tar.gz"}, wantErr: "absolute path", refusal: true},
		{name: "tar with symlink outside", opts: AddOptions{Source: base + "/symlink.tar.gz"}, wantErr: `is a link to "/etc/passwd"`, refusal: true},
		{name: "tar with hard link", opts: AddOptions{Source: base + "/hardlink.tar.gz"}, wantErr: "is a link to", refusal: true},
		{name: "tar with device", opts: AddOptions{Source: base + "/device.tar.gz"}, wantErr: "device or pipe", refusal: true},
		{name: "zip with symlink", opts: AddOptions{Source: base + "/symlink.zip"}, wantErr: "symbolic link", refusal: true},
		{name: "zip with ../ entry", opts: AddOptions{Source: base + "/dotdot.zip"}, wantErr: "escapes the pack directory", refusal: true},
		{name: "local dir with symlink outside", opts: AddOptions{Source: symlinkDir}, wantErr: "is a symbolic link", refusal: true},
		{name: "git repo with symlink outside", opts: AddOptions{Source: symlinkGit}, wantErr: `passwd is a symbolic link (to "/etc/passwd")`, refusal: true},
		{name: "oversized archive", opts: AddOptions{Source: base + "/big.tar.gz"}, limits: Limits{TotalBytes: 256 << 10}, wantErr: "unpacks to more than", refusal: true},
		{name: "oversized download", opts: AddOptions{Source: base + "/random.tar.gz"}, limits: Limits{TotalBytes: 32 << 10}, wantErr: "larger than 32 KiB and was cut off", refusal: true},
		{name: "oversized scenario", opts: AddOptions{Source: base + "/bigscenario.zip"}, limits: Limits{ScenarioBytes: 256 << 10}, wantErr: "a scenario may hold at most 256 KiB", refusal: true},
		{name: "too many files", opts: AddOptions{Source: base + "/manyfiles.tar.gz"}, limits: Limits{Files: 50}, wantErr: "more than 50 entries", refusal: true},
		{name: "invalid scenario", opts: AddOptions{Source: base + "/invalid.tar.gz"}, wantErr: "sample/" + scenarioRel + ":10:", refusal: true},
		{name: "invalid manifest", opts: AddOptions{Source: base + "/nomanifest.zip"}, wantErr: "pack/pack.yaml:5:1: homepage: unknown field", refusal: true},
		{name: "needs newer ckslab", opts: AddOptions{Source: base + "/newer.tar.gz"}, wantErr: "needs ckslab v9.0.0 or newer", refusal: true},
		{name: "not an archive", opts: AddOptions{Source: base + "/notgzip.tar.gz"}, wantErr: "not gzip-compressed", refusal: true},
		{name: "already installed", opts: AddOptions{Source: base + "/good.tar.gz", Name: "base"}, wantErr: "already installed", refusal: true},
		{name: "same name as installed", opts: AddOptions{Source: copyFixture(t)}, wantErr: "pack sample is already installed", refusal: true},
		{name: "not acknowledged", opts: AddOptions{Source: base + "/good.tar.gz", Name: "other", Confirm: func(context.Context, Summary) (string, error) {
			return "", errors.New("this is not a terminal; re-run with --yes")
		}}, wantErr: "re-run with --yes", refusal: true},
		{name: "unknown source", opts: AddOptions{Source: "s3::https://bucket/x.zip"}, wantErr: "not supported", refusal: true},
		{name: "html page", opts: AddOptions{Source: base + "/index.html"}, wantErr: "not an archive", refusal: true},
	}
	m := New(t.TempDir(), "v1.0.0")
	if _, err := m.Add(ctx, AddOptions{Source: copyFixture(t), Confirm: yes}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Add(ctx, AddOptions{Source: base + "/good.tar.gz", Name: "base", Confirm: yes}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, ids := snapshot(t, m.StateRoot), catalogIDs(t, m)
			m.Limits = tt.limits
			defer func() { m.Limits = DefaultLimits() }()
			opts := tt.opts
			if opts.Confirm == nil {
				opts.Confirm = yes
			}
			_, err := m.Add(ctx, opts)
			if err == nil {
				t.Fatal("Add succeeded, want a refusal")
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v\nwant it to contain %q", err, tt.wantErr)
			}
			var r *Refusal
			if tt.refusal && !errors.As(err, &r) {
				t.Errorf("error %T is not a *Refusal: %v", err, err)
			}
			assertUntouched(t, m, before, ids)
		})
	}
	// The failed update of an installed pack is refused the same way.
	t.Run("update refused keeps the pack", func(t *testing.T) {
		before, ids := snapshot(t, m.StateRoot), catalogIDs(t, m)
		_, err := m.Update(ctx, "base", UpdateOptions{Checksum: "sha256:" + strings.Repeat("2", 64)})
		if err == nil || !strings.Contains(err.Error(), "checksum") {
			t.Fatalf("update with a wrong checksum: %v", err)
		}
		assertUntouched(t, m, before, ids)
	})
}

func manyFiles(n int) []entry {
	out := make([]entry, n)
	for i := range out {
		out[i] = entry{name: filepath.Join("docs", strings.Repeat("f", i+1)+".txt"), body: "x"}
	}
	return out
}

// random returns n bytes that do not compress.
func random(n int) string {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return string(b)
}
