package v1alpha1

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"
)

// FieldError is a problem at a field path such as spec.checks[2].objective.
type FieldError struct {
	// Path is the field in YAML terms, e.g. spec.checks[2].objective.
	Path string
	// Message says what is wrong and, where it helps, what is expected.
	Message string
}

func (e FieldError) Error() string { return e.Path + ": " + e.Message }

var (
	nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	idRE   = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
)

type errs struct{ list []FieldError }

func (e *errs) add(path, format string, args ...any) {
	e.list = append(e.list, FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
}

// Validate reports every semantic problem of a decoded scenario. Checks that
// need the scenario's files or a CEL compiler live in the loader.
func (s *Scenario) Validate() []FieldError {
	e := &errs{}
	if s.APIVersion != APIVersion {
		e.add("apiVersion", "must be %q, got %q", APIVersion, s.APIVersion)
	}
	if s.Kind != KindName {
		e.add("kind", "must be %q, got %q", KindName, s.Kind)
	}
	switch {
	case s.Metadata.Name == "":
		e.add("metadata.name", "is required: it is the id learners type (ckslab start <name>)")
	case len(s.Metadata.Name) > 63 || !nameRE.MatchString(s.Metadata.Name):
		e.add("metadata.name", "%q must be lowercase letters, digits and '-', at most 63 characters", s.Metadata.Name)
	}
	sp := &s.Spec
	if strings.TrimSpace(sp.Title) == "" {
		e.add("spec.title", "is required")
	}
	if !validDomain(sp.Domain) {
		e.add("spec.domain", "%q is not a CKS domain; expected one of: %s", sp.Domain, domainList())
	}
	if strings.TrimSpace(sp.Competency) == "" {
		e.add("spec.competency", "is required: name the curriculum competency this drills")
	}
	switch sp.Difficulty {
	case "easy", "medium", "hard":
	default:
		e.add("spec.difficulty", "must be easy, medium or hard, got %q", sp.Difficulty)
	}
	if sp.Minutes < 1 || sp.Minutes > 120 {
		e.add("spec.minutes", "must be between 1 and 120, got %d", sp.Minutes)
	}
	seenCap := map[Capability]bool{}
	for i, c := range sp.Requires {
		p := fmt.Sprintf("spec.requires[%d]", i)
		if !validCapability(c) {
			e.add(p, "unknown capability %q; expected one of: %s", c, capabilityList())
		}
		if seenCap[c] {
			e.add(p, "capability %q listed twice", c)
		}
		seenCap[c] = true
	}
	if strings.TrimSpace(sp.Task) == "" {
		e.add("spec.task", "is required: the markdown task shown to the learner")
	}
	for i, h := range sp.Hints {
		p := fmt.Sprintf("spec.hints[%d]", i)
		if strings.TrimSpace(h.Text) == "" {
			e.add(p+".text", "is required")
		}
		if h.Penalty < 0 {
			e.add(p+".penalty", "must not be negative")
		}
	}
	validateOps(e, "spec.setup", sp.Setup)
	if len(sp.Solution) == 0 {
		e.add("spec.solution", "is required: CI applies it to prove the checks can pass")
	}
	validateOps(e, "spec.solution", sp.Solution)
	validateOps(e, "spec.cleanup", sp.Cleanup)
	if len(sp.Checks) == 0 {
		e.add("spec.checks", "at least one check is required")
	}
	ids := map[string]int{}
	for i, c := range sp.Checks {
		p := fmt.Sprintf("spec.checks[%d]", i)
		switch {
		case c.ID == "":
			e.add(p+".id", "is required")
		case !idRE.MatchString(c.ID):
			e.add(p+".id", "%q must be lowercase letters, digits and '-'", c.ID)
		default:
			if j, dup := ids[c.ID]; dup {
				e.add(p+".id", "duplicate check id %q (also spec.checks[%d])", c.ID, j)
			} else {
				ids[c.ID] = i
			}
		}
		if strings.TrimSpace(c.Objective) == "" {
			e.add(p+".objective", "is required: the sentence the learner sees for this check")
		}
		if c.Weight < 0 {
			e.add(p+".weight", "must not be negative")
		}
		validateDuration(e, p+".timeout", c.Timeout)
		validateCheckRequires(e, p, &c)
		set := setFields(&c, "ID", "Objective", "Weight", "Timeout", "Guard", "Protects", "Requires")
		switch len(set) {
		case 0:
			e.add(p, "has no check type; set exactly one of: %s", strings.Join(CheckTypes(), ", "))
		case 1:
			validateCheck(e, p+"."+set[0], &c)
		default:
			e.add(p, "has %d check types (%s); set exactly one", len(set), strings.Join(set, ", "))
		}
	}
	validateGuards(e, sp.Checks, ids)
	for i, d := range sp.Docs {
		if !strings.HasPrefix(d, "https://") {
			e.add(fmt.Sprintf("spec.docs[%d]", i), "must be an https:// link, got %q", d)
		}
	}
	return e.list
}

// validateGuards checks guard and protects: protects is only for guards
// and names existing scored checks; a guard carries no weight; at least
// one check awards points.
func validateGuards(e *errs, cs []Check, ids map[string]int) {
	scored := 0
	for i, c := range cs {
		p := fmt.Sprintf("spec.checks[%d]", i)
		if !c.Guard {
			scored++
			if len(c.Protects) > 0 {
				e.add(p+".protects", "is only for guards: set guard: true, or remove protects")
			}
			continue
		}
		if c.Weight != 0 {
			e.add(p+".weight", "a guard awards no points: remove weight (a failed guard zeroes what it protects)")
		}
		seen := map[string]bool{}
		for j, id := range c.Protects {
			pp := fmt.Sprintf("%s.protects[%d]", p, j)
			k, ok := ids[id]
			switch {
			case !ok:
				e.add(pp, "no check has id %q; protects names scored checks of this scenario: %s", id, strings.Join(scoredIDs(cs), ", "))
			case cs[k].Guard:
				e.add(pp, "%q is a guard, which awards no points; protects names scored checks: %s", id, strings.Join(scoredIDs(cs), ", "))
			case seen[id]:
				e.add(pp, "%q listed twice", id)
			}
			seen[id] = true
		}
	}
	if len(cs) > 0 && scored == 0 {
		e.add("spec.checks", "every check is a guard, so the scenario awards no points: at least one check must judge the task (guard: false)")
	}
}

func scoredIDs(cs []Check) []string {
	var out []string
	for _, c := range cs {
		if !c.Guard && c.ID != "" {
			out = append(out, c.ID)
		}
	}
	return out
}

// ValidateOperations reports the problems of an operation list (setup,
// solution, cleanup, or an alternative fix) under path.
func ValidateOperations(path string, ops []Operation) []FieldError {
	e := &errs{}
	validateOps(e, path, ops)
	return e.list
}

func validateCheck(e *errs, p string, c *Check) {
	switch {
	case c.Assert != nil:
		validateRef(e, p+".resource", c.Assert.Resource, true)
		if c.Assert.Expr == "" {
			e.add(p+".expr", "is required (a CEL expression over object)")
		}
		switch c.Assert.Mode {
		case "", "all", "any", "list":
		default:
			e.add(p+".mode", "must be all, any or list, got %q", c.Assert.Mode)
		}
	case c.Absent != nil:
		validateRef(e, p+".resource", c.Absent.Resource, true)
	case c.CanI != nil:
		ci := c.CanI
		subjects := 0
		for _, s := range []string{ci.User, ci.ServiceAccount} {
			if s != "" {
				subjects++
			}
		}
		if subjects == 0 && len(ci.Groups) == 0 {
			e.add(p, "needs a subject: user, groups or serviceAccount")
		}
		if subjects > 1 {
			e.add(p, "set user or serviceAccount, not both")
		}
		if ci.ServiceAccount != "" && strings.Count(ci.ServiceAccount, ":") != 1 {
			e.add(p+".serviceAccount", "must be namespace:name, got %q", ci.ServiceAccount)
		}
		if ci.Verb == "" {
			e.add(p+".verb", "is required")
		}
		if ci.Resource == "" {
			e.add(p+".resource", "is required (e.g. secrets, deployments.apps, pods/exec)")
		}
		validateExpect(e, p+".expect", ci.Expect, "allowed", "denied")
	case c.Admission != nil:
		a := c.Admission
		if (a.Manifest == "") == (a.PodTemplateOf == nil) {
			e.add(p, "set exactly one of manifest or podTemplateOf")
		}
		if a.PodTemplateOf != nil {
			validateRef(e, p+".podTemplateOf", *a.PodTemplateOf, false)
		}
		validateExpect(e, p+".expect", a.Expect, "allowed", "denied")
		validateRegexp(e, p+".messageMatches", a.MessageMatches)
	case c.NodeFile != nil:
		nf := c.NodeFile
		validateAbsPath(e, p+".path", nf.Path)
		validateRegexp(e, p+".matches", nf.Matches)
		validateRegexp(e, p+".notMatches", nf.NotMatches)
		if nf.MaxMode != "" {
			if _, err := parseMode(nf.MaxMode); err != nil {
				e.add(p+".maxMode", "%v", err)
			}
		}
	case c.StaticPodFlag != nil:
		f := c.StaticPodFlag
		validateComponent(e, p+".component", f.Component)
		if f.Flag == "" || strings.HasPrefix(f.Flag, "-") {
			e.add(p+".flag", "is required, without leading dashes (e.g. audit-log-path), got %q", f.Flag)
		}
		validateRegexp(e, p+".matches", f.Matches)
	case c.AuditLog != nil:
		if c.AuditLog.Expr == "" {
			e.add(p+".expr", "is required (a CEL expression over event)")
		}
		validateExpect(e, p+".expect", c.AuditLog.Expect, "", "present", "absent")
		if c.AuditLog.Path != "" {
			validateAbsPath(e, p+".path", c.AuditLog.Path)
		}
	case c.EtcdValue != nil:
		if !strings.HasPrefix(c.EtcdValue.Key, "/") {
			e.add(p+".key", "must be an etcd key such as /registry/secrets/<ns>/<name>, got %q", c.EtcdValue.Key)
		}
		if c.EtcdValue.HasPrefix == "" && c.EtcdValue.NotContain == "" {
			e.add(p, "set hasPrefix or notContains")
		}
	case c.Rego != nil:
		r := c.Rego
		validateAbsPath(e, p+".policyPath", r.PolicyPath)
		if !strings.HasPrefix(r.Query, "data.") {
			e.add(p+".query", "must be a Rego reference starting with data., got %q", r.Query)
		}
		if len(r.Cases) == 0 {
			e.add(p+".cases", "at least one case is required")
		}
		for i, rc := range r.Cases {
			cp := fmt.Sprintf("%s.cases[%d]", p, i)
			if rc.Name == "" {
				e.add(cp+".name", "is required")
			}
			if rc.Input == "" {
				e.add(cp+".input", "is required")
			}
			validateRegexp(e, cp+".messageMatches", rc.MessageMatches)
		}
	case c.Dockerfile != nil:
		validateAbsPath(e, p+".path", c.Dockerfile.Path)
		if len(c.Dockerfile.Rules) == 0 {
			e.add(p+".rules", "at least one rule is required")
		}
		for i, r := range c.Dockerfile.Rules {
			name, arg, _ := strings.Cut(r, ":")
			switch name {
			case "multiStage", "nonRootUser", "pinnedBase", "noLatest", "noAddURL", "noSecretsInEnv":
			case "finalBase":
				validateRegexp(e, fmt.Sprintf("%s.rules[%d]", p, i), arg)
			default:
				e.add(fmt.Sprintf("%s.rules[%d]", p, i), "unknown rule %q; expected multiStage, nonRootUser, pinnedBase, noLatest, noAddURL, noSecretsInEnv or finalBase:<regex>", r)
			}
		}
	case c.Connectivity != nil, c.PodExec != nil, c.RuntimeHandler != nil:
		validateBehaviourCheck(e, p, c)
	case c.Command != nil:
		if len(c.Command.Command) == 0 {
			e.add(p+".command", "is required")
		}
		validateRegexp(e, p+".matches", c.Command.Matches)
	case c.Access != nil, c.NetpolEffect != nil, c.EndpointProbe != nil:
		validateEffectCheck(e, p, c)
	case c.AnswerFile != nil:
		validateAbsPath(e, p+".path", c.AnswerFile.Path)
		if len(c.AnswerFile.Expect) == 0 && c.AnswerFile.Matches == "" {
			e.add(p, "set expect or matches")
		}
		validateRegexp(e, p+".matches", c.AnswerFile.Matches)
	}
}

func validateOps(e *errs, path string, ops []Operation) {
	for i, op := range ops {
		p := fmt.Sprintf("%s[%d]", path, i)
		set := setFields(&op)
		if len(set) != 1 {
			if len(set) == 0 {
				e.add(p, "has no operation; set exactly one of: %s", strings.Join(OperationTypes(), ", "))
			} else {
				e.add(p, "has %d operations (%s); set exactly one per list item", len(set), strings.Join(set, ", "))
			}
			continue
		}
		p += "." + set[0]
		switch {
		case op.Apply != nil:
			if (op.Apply.File == "") == (op.Apply.Manifest == "") {
				e.add(p, "set exactly one of file or manifest")
			}
		case op.Delete != nil:
			validateRef(e, p, *op.Delete, true)
		case op.Patch != nil:
			validateRef(e, p+".resource", op.Patch.Resource, false)
			switch op.Patch.Type {
			case "", "merge", "strategic", "json":
			default:
				e.add(p+".type", "must be merge, strategic or json, got %q", op.Patch.Type)
			}
			if op.Patch.Patch == "" {
				e.add(p+".patch", "is required")
			}
		case op.Kubectl != "":
			if strings.HasPrefix(strings.TrimSpace(op.Kubectl), "kubectl ") {
				e.add(p, "omit the leading \"kubectl\": write the arguments only")
			}
		case op.Wait != nil:
			validateRef(e, p+".resource", op.Wait.Resource, false)
			validateDuration(e, p+".timeout", op.Wait.Timeout)
		case op.Node != nil:
			n := op.Node
			acts := setFields(n, "Name")
			if len(acts) != 1 {
				e.add(p, "set exactly one of writeFile, exec, editManifest, remove, waitHealthy (got %d)", len(acts))
				continue
			}
			switch {
			case n.WriteFile != nil:
				validateAbsPath(e, p+".writeFile.path", n.WriteFile.Path)
				if n.WriteFile.Mode != "" {
					if _, err := parseMode(n.WriteFile.Mode); err != nil {
						e.add(p+".writeFile.mode", "%v", err)
					}
				}
				if n.WriteFile.File != "" && n.WriteFile.Content != "" {
					e.add(p+".writeFile", "set content or file, not both")
				}
			case n.Exec != nil:
				if len(n.Exec.Command) == 0 {
					e.add(p+".exec.command", "is required")
				}
			case n.EditManifest != nil:
				em := n.EditManifest
				validateComponent(e, p+".editManifest.component", em.Component)
				if len(em.SetFlags) == 0 && len(em.RemoveFlags) == 0 && len(em.AddHostPathVolumes) == 0 {
					e.add(p+".editManifest", "set at least one of setFlags, removeFlags, addHostPathVolumes")
				}
				for j, v := range em.AddHostPathVolumes {
					vp := fmt.Sprintf("%s.editManifest.addHostPathVolumes[%d]", p, j)
					if v.Name == "" {
						e.add(vp+".name", "is required")
					}
					validateAbsPath(e, vp+".path", v.Path)
				}
			case n.Remove != "":
				validateAbsPath(e, p+".remove", n.Remove)
			case n.WaitHealthy != "":
				validateComponent(e, p+".waitHealthy", n.WaitHealthy)
			}
		case op.Impersonate != nil:
			if op.Impersonate.User == "" {
				e.add(p+".user", "is required")
			}
			if len(op.Impersonate.Requests) == 0 {
				e.add(p+".requests", "at least one request is required")
			}
			for j, r := range op.Impersonate.Requests {
				rp := fmt.Sprintf("%s.requests[%d]", p, j)
				switch r.Verb {
				case "get", "list", "create", "delete":
				default:
					e.add(rp+".verb", "must be get, list, create or delete, got %q", r.Verb)
				}
				validateRef(e, rp+".resource", r.Resource, true)
			}
		}
	}
}

func validateRef(e *errs, p string, r ObjectRef, allowSelector bool) {
	if r.APIVersion == "" {
		e.add(p+".apiVersion", "is required (e.g. v1, apps/v1)")
	}
	if r.Kind == "" {
		e.add(p+".kind", "is required")
	}
	if !allowSelector && r.Name == "" {
		e.add(p+".name", "is required")
	}
	if r.Name != "" && r.Selector != "" {
		e.add(p, "set name or selector, not both")
	}
}

func validateExpect(e *errs, p, got string, allowed ...string) {
	for _, a := range allowed {
		if got == a {
			return
		}
	}
	var shown []string
	for _, a := range allowed {
		if a != "" {
			shown = append(shown, a)
		}
	}
	e.add(p, "must be %s, got %q", strings.Join(shown, " or "), got)
}

func validateRegexp(e *errs, p, re string) {
	if re == "" {
		return
	}
	if _, err := regexp.Compile(re); err != nil {
		e.add(p, "invalid regular expression: %v", err)
	}
}

func validateAbsPath(e *errs, p, path string) {
	if !strings.HasPrefix(path, "/") {
		e.add(p, "must be an absolute path on the node, got %q", path)
		return
	}
	for _, part := range strings.Split(path, "/") {
		if part == ".." {
			e.add(p, "must not contain '..', got %q", path)
			return
		}
	}
}

func validateDuration(e *errs, p, d string) {
	if d == "" {
		return
	}
	v, err := time.ParseDuration(d)
	if err != nil || v <= 0 || v > 10*time.Minute {
		e.add(p, "must be a duration between 1ms and 10m such as 30s, got %q", d)
	}
}

// Components are the static pods a kubeadm control-plane node runs.
var Components = []string{"kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler"}

func validateComponent(e *errs, p, c string) {
	for _, k := range Components {
		if c == k {
			return
		}
	}
	e.add(p, "must be one of %s, got %q", strings.Join(Components, ", "), c)
}

// ParseMode parses an octal file mode such as "0600".
func ParseMode(s string) (uint32, error) { return parseMode(s) }

func parseMode(s string) (uint32, error) {
	var m uint32
	if _, err := fmt.Sscanf(s, "%o", &m); err != nil || m > 0o7777 || !strings.HasPrefix(s, "0") {
		return 0, fmt.Errorf("must be an octal mode such as \"0600\", got %q", s)
	}
	return m, nil
}

// CheckTypes lists the check type field names.
func CheckTypes() []string {
	return jsonNames(reflect.TypeOf(Check{}), "id", "objective", "weight", "timeout", "guard", "protects", "requires")
}

// OperationTypes lists the operation field names.
func OperationTypes() []string { return jsonNames(reflect.TypeOf(Operation{})) }

func jsonNames(t reflect.Type, skip ...string) []string {
	var out []string
outer:
	for i := 0; i < t.NumField(); i++ {
		name := strings.Split(t.Field(i).Tag.Get("json"), ",")[0]
		for _, s := range skip {
			if s == name {
				continue outer
			}
		}
		out = append(out, name)
	}
	return out
}

// setFields returns the json names of non-zero fields of *v, ignoring skip (Go names).
func setFields(v any, skip ...string) []string {
	rv := reflect.ValueOf(v).Elem()
	t := rv.Type()
	var out []string
outer:
	for i := 0; i < t.NumField(); i++ {
		for _, s := range skip {
			if t.Field(i).Name == s {
				continue outer
			}
		}
		if !rv.Field(i).IsZero() {
			out = append(out, strings.Split(t.Field(i).Tag.Get("json"), ",")[0])
		}
	}
	return out
}

func validDomain(d Domain) bool {
	for _, k := range Domains {
		if d == k {
			return true
		}
	}
	return false
}

func domainList() string {
	var s []string
	for _, d := range Domains {
		s = append(s, string(d))
	}
	return strings.Join(s, ", ")
}

func validCapability(c Capability) bool {
	for _, k := range AllCapabilities {
		if c == k {
			return true
		}
	}
	return false
}

func capabilityList() string {
	var s []string
	for _, c := range AllCapabilities {
		s = append(s, string(c))
	}
	return strings.Join(s, ", ")
}
