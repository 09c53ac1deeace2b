package pack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"time"

	getter "github.com/hashicorp/go-getter/v2"
)

// fetched is what a fetch produced in the staging directory.
type fetched struct {
	// resolved pins exactly what was fetched: "git:<commit>",
	// "sha256:<archive digest>", or "" for directories (the tree hash pins them).
	resolved string
}

// fetch downloads src into dst (which must not exist) with go-getter
// configured for packs: only the git, http(s) and file getters, only the
// tar.gz/tgz/zip decompressors (each guarded by a pre-scan), no symlinks.
func (m *Manager) fetch(ctx context.Context, src source, dst string) (fetched, error) {
	if src.kind == KindDir {
		return fetched{}, copyDir(ctx, src.getterSrc, dst, m.limits())
	}
	var archiveSum string
	lim := m.limits()
	decompressors := map[string]getter.Decompressor{}
	for _, f := range archiveFormats {
		var inner getter.Decompressor
		if f == "zip" {
			inner = &getter.ZipDecompressor{FilesLimit: lim.Files, FileSizeLimit: lim.TotalBytes}
		} else {
			inner = &getter.TarGzipDecompressor{FilesLimit: lim.Files, FileSizeLimit: lim.TotalBytes}
		}
		decompressors[f] = &guardedDecompressor{inner: inner, format: f, limits: lim, digest: &archiveSum}
	}
	httpGetter := &getter.HttpGetter{
		Client:                m.httpClient(),
		MaxBytes:              lim.TotalBytes,
		ReadTimeout:           5 * time.Minute,
		XTerraformGetDisabled: true, // a server must not redirect us to another getter
		DoNotCheckHeadFirst:   true,
	}
	gitTimeout := m.GitTimeout
	if gitTimeout == 0 {
		gitTimeout = 5 * time.Minute
	}
	getSrc := src.getterSrc
	if src.kind == KindGit {
		getSrc = withShallowClone(getSrc)
	}
	// git writes while it clones; stop it once the clone is clearly too big.
	gctx, stop := watchSize(ctx, dst, 4*lim.TotalBytes)
	defer stop()
	client := &getter.Client{
		// Tried in this order; each takes only the sources it detects
		// (git:: or ssh/git schemes and GitHub/GitLab shorthands; http(s);
		// file).
		Getters: []getter.Getter{
			&getter.GitGetter{Timeout: gitTimeout, Detectors: []getter.Detector{
				new(getter.GitHubDetector), new(getter.GitLabDetector), new(getter.GitDetector),
			}},
			httpGetter,
			&getter.FileGetter{},
		},
		Decompressors:   decompressors,
		DisableSymlinks: true,
	}
	if _, err := client.Get(gctx, &getter.Request{Src: getSrc, Dst: dst, GetMode: getter.ModeDir, Copy: true}); err != nil {
		var r *Refusal
		if errors.As(err, &r) {
			return fetched{}, r
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fetched{}, ctxErr
		}
		if gctx.Err() != nil {
			return fetched{}, refuse("the download grew past %s and was stopped; a pack must be smaller", humanBytes(4*lim.TotalBytes))
		}
		var cerr *getter.ChecksumError
		if errors.As(err, &cerr) {
			return fetched{}, refuse("the download's sha256 is sha256:%x, which does not match the pinned checksum %s; check the pin with the pack author", cerr.Actual, src.checksum)
		}
		if errors.Is(err, io.ErrShortWrite) {
			return fetched{}, refuse("the download is larger than %s and was cut off; a pack archive must be smaller", humanBytes(lim.TotalBytes))
		}
		return fetched{}, fmt.Errorf("fetch %s: %v; check the URL and your network", redact(src.getterSrc), firstLine(err))
	}
	switch src.kind {
	case KindArchive:
		if archiveSum == "" {
			return fetched{}, refuse("%s did not unpack as an archive", redact(src.getterSrc))
		}
		return fetched{resolved: archiveSum}, nil
	case KindGit:
		commit, err := gitHead(ctx, dst)
		if err != nil {
			return fetched{}, err
		}
		if err := removeGitMetadata(dst); err != nil {
			return fetched{}, err
		}
		return fetched{resolved: "git:" + commit}, nil
	}
	return fetched{}, nil
}

// withShallowClone asks for depth 1 unless a commit is pinned (a shallow
// clone cannot check out an arbitrary commit).
func withShallowClone(src string) string {
	i := strings.Index(src, "?")
	if i < 0 {
		return src + "?depth=1"
	}
	q, err := url.ParseQuery(src[i+1:])
	if err != nil || q.Has("depth") || commitRE.MatchString(q.Get("ref")) {
		return src
	}
	q.Set("depth", "1")
	return src[:i+1] + q.Encode()
}

func firstLine(err error) string {
	return strings.SplitN(err.Error(), "\n", 2)[0]
}

// redact drops credentials and query parameters from a source for messages.
func redact(s string) string {
	if i := strings.Index(s, "?"); i >= 0 {
		s = s[:i]
	}
	if u, err := url.Parse(strings.TrimPrefix(s, "git::")); err == nil && u.User != nil {
		u.User = nil
		return strings.Replace(s, strings.TrimPrefix(s, "git::"), u.String(), 1)
	}
	return s
}

func (m *Manager) httpClient() *http.Client {
	if m.HTTPClient != nil {
		return m.HTTPClient
	}
	return &http.Client{Timeout: 10 * time.Minute}
}

func gitHead(ctx context.Context, dir string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", "rev-parse", "HEAD")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("read the cloned commit: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}
