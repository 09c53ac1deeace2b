package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

const mdSample = "# Title\n\nNamespace `team-a` runs **Deployment** `web` and *more* text that goes on and on until it has to wrap at the width.\n\n" +
	"1. First step with a long sentence that must wrap under its own number, not under the margin.\n" +
	"2. Second:\n   - nested bullet\n   - another\n\n" +
	"```\n[FAIL] 2.2 Ensure that the --client-cert-auth argument is set to true (etcd) and the line is long\n```\n\n" +
	"> quoted\n\n---\n\nSee [the docs](https://kubernetes.io/docs) or <https://example.com>.\n\n" +
	"| Flag | Value |\n|---|---|\n| --anonymous-auth | false |\n| -x | y |\n\n- [x] done\n- [ ] todo\n"

func TestRenderMarkdownPlain(t *testing.T) {
	out := renderMarkdown(mdSample, 50, true)
	if strings.Contains(out, "\x1b[") {
		t.Fatalf("NO_COLOR output carries escape sequences:\n%s", out)
	}
	want := []string{
		"  # Title",
		"  Namespace team-a runs **Deployment** web and",
		"  *more* text that goes on and on until it has",
		"  1. First step with a long sentence that must",
		"     wrap under its own number, not under the",
		"  2. Second:",
		"     • nested bullet",
		"     • another",
		"    [FAIL] 2.2 Ensure that the --client-cert-auth argument is set to true (etcd) and the line is long",
		"  | quoted",
		"  --------",
		"  See the docs https://kubernetes.io/docs or",
		"  https://example.com.",
		"  Flag             | Value",
		"  -----------------|------",
		"  --anonymous-auth | false",
		"  -x               | y",
		"  • [x] done",
		"  • [ ] todo",
	}
	lines := strings.Split(out, "\n")
	at := 0
	for _, w := range want {
		found := false
		for ; at < len(lines); at++ {
			if strings.TrimRight(lines[at], " ") == w {
				found = true
				break
			}
		}
		if !found {
			t.Fatalf("line %q missing (or out of order) in:\n%s", w, out)
		}
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "    [FAIL]") || strings.Contains(l, "|") {
			continue // code blocks and tables are not wrapped
		}
		if ansi.StringWidth(l) > 50-2 {
			t.Errorf("line wider than the panel: %q", l)
		}
	}
	// A blank line between blocks, none between the items of a tight list.
	if !strings.Contains(out, "  # Title\n\n  Namespace") || !strings.Contains(out, "  2. Second:\n     • nested bullet\n     • another") {
		t.Errorf("block spacing:\n%s", out)
	}
}

func TestRenderMarkdownColor(t *testing.T) {
	out := renderMarkdown(mdSample, 60, false)
	plain := ansi.Strip(out)
	for _, w := range []string{"Title", "team-a", "Deployment", "• nested bullet", "https://kubernetes.io/docs", "[FAIL] 2.2"} {
		if !strings.Contains(plain, w) {
			t.Errorf("%q missing from the coloured output:\n%s", w, plain)
		}
	}
	if strings.Contains(plain, "**Deployment**") || strings.Contains(plain, "*more*") {
		t.Errorf("coloured output keeps ASCII emphasis markers:\n%s", plain)
	}
}
