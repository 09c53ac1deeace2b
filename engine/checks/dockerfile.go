package checks

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/checks/imageref"
)

type dockerfile struct {
	spec      *v1alpha1.DockerfileCheck
	finalBase *regexp.Regexp
	secretKey *regexp.Regexp
}

func newDockerfile(d *v1alpha1.DockerfileCheck) (impl, error) {
	df := &dockerfile{spec: d, secretKey: regexp.MustCompile(`(?i)(password|passwd|secret|token|api_?key|access_?key|private_?key|credential)`)}
	for _, r := range d.Rules {
		if rest, ok := strings.CutPrefix(r, "finalBase:"); ok {
			re, err := regexp.Compile(rest)
			if err != nil {
				return nil, fmt.Errorf("rule %s: %w", r, err)
			}
			df.finalBase = re
			continue
		}
		switch r {
		case "multiStage", "nonRootUser", "pinnedBase", "noLatest", "noAddURL", "noSecretsInEnv":
		default:
			return nil, fmt.Errorf("unknown dockerfile rule %q (multiStage, nonRootUser, pinnedBase, noLatest, noAddURL, noSecretsInEnv, finalBase:<regex>)", r)
		}
	}
	return df, nil
}

// stage is one FROM block of a Dockerfile.
type stage struct {
	base, name string
	line       int
	users      []string
}

type instr struct {
	cmd   string
	args  []string
	flags []string
	line  int
}

// parseDockerfile returns the stages and instructions of a Dockerfile.
func parseDockerfile(data []byte) ([]stage, []instr, error) {
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, nil, err
	}
	var stages []stage
	var all []instr
	for _, n := range res.AST.Children {
		in := instr{cmd: strings.ToLower(n.Value), line: n.StartLine, flags: n.Flags}
		for a := n.Next; a != nil; a = a.Next {
			in.args = append(in.args, a.Value)
		}
		all = append(all, in)
		switch in.cmd {
		case "from":
			st := stage{line: n.StartLine}
			if len(in.args) > 0 {
				st.base = in.args[0]
			}
			if len(in.args) >= 3 && strings.EqualFold(in.args[1], "as") {
				st.name = in.args[2]
			}
			stages = append(stages, st)
		case "user":
			if len(stages) > 0 && len(in.args) > 0 {
				stages[len(stages)-1].users = append(stages[len(stages)-1].users, in.args[0])
			}
		}
	}
	return stages, all, nil
}

// imageRef splits an image reference into tag and digest.
func imageRef(ref string) (tag, digest string) {
	if i := strings.Index(ref, "@"); i >= 0 {
		digest = ref[i+1:]
		ref = ref[:i]
	}
	last := ref[strings.LastIndex(ref, "/")+1:]
	if i := strings.LastIndex(last, ":"); i >= 0 {
		tag = last[i+1:]
	}
	return tag, digest
}

func (d *dockerfile) run(ctx context.Context, env *Env) outcome {
	node, o := nodeOf(env, d.spec.Node)
	if o != nil {
		return *o
	}
	data, err := node.ReadFile(ctx, d.spec.Path)
	if err != nil {
		return failed(fmt.Sprintf("cannot read %s on %s: %v", d.spec.Path, node.Name(), err))
	}
	return d.evaluate(data)
}

// evaluate judges a Dockerfile's content against the rules.
func (d *dockerfile) evaluate(data []byte) outcome {
	stages, instrs, err := parseDockerfile(data)
	if err != nil {
		return failed(fmt.Sprintf("%s does not parse: %s", d.spec.Path, sentence(err.Error())))
	}
	if len(stages) == 0 {
		return failed(d.spec.Path + " has no FROM instruction")
	}
	names := map[string]stage{}
	for _, s := range stages {
		if s.name != "" {
			names[strings.ToLower(s.name)] = s
		}
	}
	external := func(s stage) bool {
		_, isStage := names[strings.ToLower(s.base)]
		return !isStage && s.base != "scratch"
	}
	final := stages[len(stages)-1]
	var problems, ev []string
	for _, r := range d.spec.Rules {
		switch r {
		case "multiStage":
			if len(stages) < 2 {
				problems = append(problems, "it has a single stage; use a multi-stage build so build tools stay out of the final image")
			}
		case "nonRootUser":
			u := ""
			if len(final.users) > 0 {
				u = final.users[len(final.users)-1]
			}
			user, _, _ := strings.Cut(u, ":")
			switch user {
			case "":
				problems = append(problems, "the final stage sets no USER, so it runs as root")
			case "root", "0":
				problems = append(problems, fmt.Sprintf("the final stage runs as USER %s", u))
			default:
				ev = append(ev, "final USER: "+u)
			}
		case "pinnedBase":
			for _, s := range stages {
				if !external(s) {
					continue
				}
				// imageref.Pinned: a sha256 digest or a version tag of at
				// least major.minor; latest, a bare major and floating
				// names (alpine, stable, nonroot) are not pinned.
				if !imageref.Pinned(s.base) {
					problems = append(problems, fmt.Sprintf("line %d: FROM %s is not pinned to a version tag or digest", s.line, s.base))
				}
			}
		case "noLatest":
			for _, s := range stages {
				if !external(s) {
					continue
				}
				tag, digest := imageRef(s.base)
				if digest == "" && (tag == "" || tag == "latest") {
					problems = append(problems, fmt.Sprintf("line %d: FROM %s uses the latest tag", s.line, s.base))
				}
			}
			for _, in := range instrs {
				for _, f := range in.flags {
					if img, ok := strings.CutPrefix(f, "--from="); ok && (strings.Contains(img, "/") || strings.Contains(img, ":")) {
						if tag, digest := imageRef(img); digest == "" && tag == "latest" {
							problems = append(problems, fmt.Sprintf("line %d: %s --from=%s uses the latest tag", in.line, strings.ToUpper(in.cmd), img))
						}
					}
				}
			}
		case "noAddURL":
			for _, in := range instrs {
				if in.cmd != "add" {
					continue
				}
				for _, a := range in.args {
					if strings.HasPrefix(a, "http://") || strings.HasPrefix(a, "https://") {
						problems = append(problems, fmt.Sprintf("line %d: ADD downloads %s; fetch and verify it in a build stage instead", in.line, a))
					}
				}
			}
		case "noSecretsInEnv":
			for _, in := range instrs {
				if in.cmd != "env" && in.cmd != "arg" {
					continue
				}
				for i := 0; i < len(in.args); i++ {
					k := in.args[i]
					if in.cmd == "env" && i+1 < len(in.args) {
						i++ // ENV is parsed as key, value pairs
					} else if in.cmd == "arg" {
						k, _, _ = strings.Cut(k, "=")
					}
					if d.secretKey.MatchString(k) {
						problems = append(problems, fmt.Sprintf("line %d: %s %s puts a secret into the image", in.line, strings.ToUpper(in.cmd), k))
					}
				}
			}
		default:
			rest := strings.TrimPrefix(r, "finalBase:")
			base := final.base
			for hops := 0; hops < len(stages); hops++ {
				s, ok := names[strings.ToLower(base)]
				if !ok {
					break
				}
				base = s.base
			}
			if d.finalBase != nil && !d.finalBase.MatchString(base) {
				problems = append(problems, fmt.Sprintf("the final image is based on %s; expected a base matching %s", base, rest))
			} else {
				ev = append(ev, "final base: "+base)
			}
		}
	}
	if len(problems) > 0 {
		return failed(fmt.Sprintf("%s: %s", d.spec.Path, strings.Join(limit(problems, 3), "; ")), problems...)
	}
	return passed(fmt.Sprintf("%s satisfies %s", d.spec.Path, strings.Join(d.spec.Rules, ", ")), ev...)
}
