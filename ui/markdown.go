package ui

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
)

// The task panel renders markdown with goldmark (CommonMark + GFM) and
// lipgloss, in the layout of glamour's dark and ascii styles. glamour itself
// is not used: it links chroma, whose package initialisation (every lexer
// and style parsed from embedded XML) cost about 40% of the start-up CPU of
// every ckslab command, `ckslab version` included (issue 19); code blocks are
// shown unhighlighted.

// mdStyles are the styles of one rendering; the zero value renders plain
// text with ASCII markers (NO_COLOR).
type mdStyles struct {
	color                                           bool
	heading, h1, code, codeBlock, link, linkText    lipgloss.Style
	emph, strong, strike, rule, quote, imageCaption lipgloss.Style
}

func newMDStyles(noColor bool) mdStyles {
	if noColor {
		return mdStyles{}
	}
	s := lipgloss.NewStyle
	c := func(v string) lipgloss.Color { return lipgloss.Color(v) }
	return mdStyles{
		color:        true,
		heading:      s().Foreground(c("39")).Bold(true),
		h1:           s().Foreground(c("228")).Background(c("63")).Bold(true),
		code:         s().Foreground(c("203")).Background(c("236")),
		codeBlock:    s().Foreground(c("244")),
		link:         s().Foreground(c("30")).Underline(true),
		linkText:     s().Foreground(c("35")).Bold(true),
		emph:         s().Italic(true),
		strong:       s().Bold(true),
		strike:       s().Strikethrough(true),
		rule:         s().Foreground(c("240")),
		quote:        s(),
		imageCaption: s().Foreground(c("243")),
	}
}

type mdRenderer struct {
	src []byte
	st  mdStyles
}

// renderMarkdown renders md wrapped at width (a 2-column margin on the
// left, as glamour's styles have).
func renderMarkdown(md string, width int, noColor bool) string {
	w := max(width-2, 20)
	src := []byte(md)
	doc := goldmark.New(goldmark.WithExtensions(extension.GFM)).Parser().Parse(text.NewReader(src))
	r := &mdRenderer{src: src, st: newMDStyles(noColor)}
	lines := r.blocks(doc, w-2)
	for i, l := range lines {
		if l != "" {
			lines[i] = "  " + l
		}
	}
	return strings.Trim(strings.Join(lines, "\n"), "\n")
}

// blocks renders n's block children, a blank line between them (none
// inside the items of a tight list).
func (r *mdRenderer) blocks(n ast.Node, width int) []string {
	tight := false
	if _, ok := n.(*ast.ListItem); ok {
		if l, ok := n.Parent().(*ast.List); ok {
			tight = l.IsTight
		}
	}
	var out []string
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		b := r.block(c, width)
		if len(b) == 0 {
			continue
		}
		if len(out) > 0 && !tight {
			out = append(out, "")
		}
		out = append(out, b...)
	}
	return out
}

func (r *mdRenderer) block(n ast.Node, width int) []string {
	width = max(width, 10)
	switch n := n.(type) {
	case *ast.Heading:
		t := strings.Repeat("#", n.Level) + " " + r.inline(n)
		switch {
		case !r.st.color:
		case n.Level == 1:
			t = r.st.h1.Render(" " + r.inline(n) + " ")
		default:
			t = r.st.heading.Render(t)
		}
		return wrapMD(t, width)
	case *ast.Paragraph, *ast.TextBlock:
		return wrapMD(r.inline(n), width)
	case *ast.List:
		return r.list(n, width)
	case *ast.FencedCodeBlock, *ast.CodeBlock:
		var out []string
		lines := n.Lines()
		for i := range lines.Len() {
			seg := lines.At(i)
			l := strings.TrimRight(string(seg.Value(r.src)), "\n")
			if r.st.color {
				l = r.st.codeBlock.Render(l)
			}
			out = append(out, "  "+l)
		}
		return out
	case *ast.Blockquote:
		token := "| "
		if r.st.color {
			token = "│ "
		}
		inner := r.blocks(n, width-2)
		for i, l := range inner {
			inner[i] = token + l
		}
		return inner
	case *ast.ThematicBreak:
		if r.st.color {
			return []string{r.st.rule.Render("--------")}
		}
		return []string{"--------"}
	case *ast.HTMLBlock:
		var out []string
		lines := n.Lines()
		for i := range lines.Len() {
			seg := lines.At(i)
			out = append(out, strings.TrimRight(string(seg.Value(r.src)), "\n"))
		}
		return out
	case *east.Table:
		return r.table(n)
	default:
		if n.Type() == ast.TypeBlock && n.HasChildren() {
			return r.blocks(n, width)
		}
		return wrapMD(r.inline(n), width)
	}
}

func (r *mdRenderer) list(l *ast.List, width int) []string {
	var out []string
	num := l.Start
	if num == 0 {
		num = 1
	}
	for item := l.FirstChild(); item != nil; item = item.NextSibling() {
		marker := "• "
		if l.IsOrdered() {
			marker = strconv.Itoa(num) + ". "
			num++
		}
		pad := strings.Repeat(" ", ansi.StringWidth(marker))
		body := r.blocks(item, width-len(pad))
		if len(body) == 0 {
			body = []string{""}
		}
		if !l.IsTight && len(out) > 0 {
			out = append(out, "")
		}
		for i, b := range body {
			switch {
			case i == 0:
				out = append(out, marker+b)
			case b == "":
				out = append(out, "")
			default:
				out = append(out, pad+b)
			}
		}
	}
	return out
}

// table renders a GFM table with its columns padded (cells are not wrapped).
func (r *mdRenderer) table(t *east.Table) []string {
	var rows [][]string
	for row := t.FirstChild(); row != nil; row = row.NextSibling() {
		var cells []string
		for cell := row.FirstChild(); cell != nil; cell = cell.NextSibling() {
			cells = append(cells, r.inline(cell))
		}
		rows = append(rows, cells)
	}
	var widths []int
	for _, row := range rows {
		for i, c := range row {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], ansi.StringWidth(c))
		}
	}
	sep := " | "
	if r.st.color {
		sep = " │ "
	}
	var out []string
	for ri, row := range rows {
		cells := make([]string, len(row))
		for i, c := range row {
			cells[i] = c + strings.Repeat(" ", widths[i]-ansi.StringWidth(c))
		}
		out = append(out, strings.TrimRight(strings.Join(cells, sep), " "))
		if ri == 0 {
			rules := make([]string, len(widths))
			for i, w := range widths {
				rules[i] = strings.Repeat("-", w)
			}
			out = append(out, strings.Join(rules, strings.ReplaceAll(sep, " ", "-")))
		}
	}
	return out
}

// inline renders n's inline children as one string (hard line breaks as
// newlines).
func (r *mdRenderer) inline(n ast.Node) string {
	var b strings.Builder
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		r.inlineNode(&b, c)
	}
	return b.String()
}

func (r *mdRenderer) inlineNode(b *strings.Builder, n ast.Node) {
	st := r.st
	switch n := n.(type) {
	case *ast.Text:
		b.Write(n.Segment.Value(r.src))
		switch {
		case n.HardLineBreak():
			b.WriteString("\n")
		case n.SoftLineBreak():
			b.WriteString(" ")
		}
	case *ast.String:
		b.Write(n.Value)
	case *ast.CodeSpan:
		t := r.inline(n)
		if st.color {
			t = st.code.Render(" " + t + " ")
		}
		b.WriteString(t)
	case *ast.Emphasis:
		t := r.inline(n)
		switch {
		case st.color && n.Level >= 2:
			t = st.strong.Render(t)
		case st.color:
			t = st.emph.Render(t)
		case n.Level >= 2:
			t = "**" + t + "**"
		default:
			t = "*" + t + "*"
		}
		b.WriteString(t)
	case *east.Strikethrough:
		t := r.inline(n)
		if st.color {
			t = st.strike.Render(t)
		} else {
			t = "~~" + t + "~~"
		}
		b.WriteString(t)
	case *ast.Link:
		t, u := r.inline(n), string(n.Destination)
		if st.color {
			if t != "" && t != u {
				b.WriteString(st.linkText.Render(t) + " ")
			}
			b.WriteString(st.link.Render(u))
			return
		}
		if t != "" && t != u {
			b.WriteString(t + " ")
		}
		b.WriteString(u)
	case *ast.AutoLink:
		u := string(n.URL(r.src))
		if st.color {
			u = st.link.Render(u)
		}
		b.WriteString(u)
	case *ast.Image:
		t := "Image: " + r.inline(n) + " → "
		u := string(n.Destination)
		if st.color {
			t, u = st.imageCaption.Render(t), st.link.Render(u)
		}
		b.WriteString(t + u)
	case *east.TaskCheckBox:
		if n.IsChecked {
			b.WriteString("[x] ")
		} else {
			b.WriteString("[ ] ")
		}
	case *ast.RawHTML:
		segs := n.Segments
		for i := range segs.Len() {
			seg := segs.At(i)
			b.Write(seg.Value(r.src))
		}
	default:
		if n.HasChildren() {
			for c := n.FirstChild(); c != nil; c = c.NextSibling() {
				r.inlineNode(b, c)
			}
		}
	}
}

// wrapMD word-wraps s (which may carry ANSI styles) at width.
func wrapMD(s string, width int) []string {
	return strings.Split(ansi.Wrap(s, width, ""), "\n")
}
