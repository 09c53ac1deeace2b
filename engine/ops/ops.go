// Package ops executes scenario operations (setup, solution, cleanup): one
// executor per v1alpha1.Operation type. Everything an operation creates or
// overwrites is recorded in a Tracker so reset can undo it exactly.
package ops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/google/cel-go/cel"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/celx"
	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/kube"
)

// Env is what operations act on.
type Env struct {
	// ScenarioID labels created objects.
	ScenarioID string
	// ReadFile reads a file relative to the scenario directory.
	ReadFile func(name string) ([]byte, error)
	// Trusted is false for pack scenarios: they may not run commands on the host.
	Trusted bool
	// AllowHostExec lets untrusted scenarios run node commands on a backend
	// whose node is the host (the user opted in).
	AllowHostExec bool
	Cluster       *cluster.Cluster
	Kube          *kube.Client
	// Tracker records what to undo on reset (nil: nothing is tracked).
	Tracker *Tracker
	// Log receives progress lines (may be nil).
	Log func(string)
	// Kubectl is the kubectl binary (default: looked up in PATH).
	Kubectl string
	// CEL compiles wait expressions (created on demand when nil).
	CEL *celx.Env
}

func (e *Env) logf(format string, args ...any) {
	if e.Log != nil {
		e.Log(fmt.Sprintf(format, args...))
	}
}

// Describe renders an operation as one line for progress and errors.
func Describe(op v1alpha1.Operation) string {
	switch {
	case op.Apply != nil:
		if op.Apply.File != "" {
			return "apply " + op.Apply.File
		}
		return "apply inline manifest"
	case op.Delete != nil:
		return "delete " + refString(*op.Delete)
	case op.Patch != nil:
		return "patch " + refString(op.Patch.Resource)
	case op.Kubectl != "":
		return "kubectl " + op.Kubectl
	case op.Wait != nil:
		return "wait for " + refString(op.Wait.Resource)
	case op.Node != nil:
		return "node " + describeNodeOp(op.Node)
	case op.Impersonate != nil:
		return "requests as " + op.Impersonate.User
	}
	return "empty operation"
}

func refString(r v1alpha1.ObjectRef) string {
	if r.Selector != "" {
		s := r.Kind + " -l " + r.Selector
		if r.Namespace != "" {
			s += " in " + r.Namespace
		}
		return s
	}
	return kube.Ref(r.Kind, r.Namespace, r.Name)
}

// Run executes operations in order and stops at the first error.
func Run(ctx context.Context, env *Env, list []v1alpha1.Operation) error {
	for i, op := range list {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := RunOne(ctx, env, op)
		if err != nil && retryAfterRestart(ctx, env, op, err) {
			err = RunOne(ctx, env, op)
		}
		if err != nil {
			return fmt.Errorf("step %d (%s): %w", i+1, Describe(op), err)
		}
	}
	return nil
}

// RunOne executes one operation.
func RunOne(ctx context.Context, env *Env, op v1alpha1.Operation) error {
	env.logf("%s", Describe(op))
	switch {
	case op.Apply != nil:
		return apply(ctx, env, op.Apply)
	case op.Delete != nil:
		return deleteObjects(ctx, env, *op.Delete)
	case op.Patch != nil:
		return patch(ctx, env, op.Patch)
	case op.Kubectl != "":
		return kubectl(ctx, env, op.Kubectl)
	case op.Wait != nil:
		return wait(ctx, env, op.Wait)
	case op.Node != nil:
		return nodeOp(ctx, env, op.Node)
	case op.Impersonate != nil:
		return impersonate(ctx, env, op.Impersonate)
	}
	return errors.New("operation has no action set")
}

func apply(ctx context.Context, env *Env, a *v1alpha1.ApplyOp) error {
	data := []byte(a.Manifest)
	if a.File != "" {
		if env.ReadFile == nil {
			return fmt.Errorf("read %s: scenario files are not available", a.File)
		}
		b, err := env.ReadFile(a.File)
		if err != nil {
			return err
		}
		data = b
	}
	objs, err := kube.Decode(data)
	if err != nil {
		return fmt.Errorf("decode manifest: %w", err)
	}
	var namespaces []string
	for _, obj := range objs {
		if err := applyOne(ctx, env, obj, a.Namespace); err != nil {
			return err
		}
		if obj.GetKind() == "Namespace" && obj.GetAPIVersion() == "v1" {
			namespaces = append(namespaces, obj.GetName())
		}
	}
	// A namespace is only usable for pods once its default ServiceAccount
	// exists; wait here so later steps and checks never race the controller.
	for _, ns := range namespaces {
		if err := waitDefaultServiceAccount(ctx, env.Kube, ns); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if env.Log != nil {
				env.Log("warning: " + err.Error() + "; continuing")
			}
		}
	}
	return nil
}

// applyOne applies obj; when it does not exist yet it is labelled with the
// scenario id and tracked, so reset deletes exactly what setup created.
func applyOne(ctx context.Context, env *Env, obj *unstructured.Unstructured, ns string) error {
	if env.Tracker != nil && env.ScenarioID != "" {
		ri, m, err := env.Kube.Resource(obj.GetAPIVersion(), obj.GetKind(), firstNonEmpty(obj.GetNamespace(), ns))
		if err != nil {
			return fmt.Errorf("apply %s: %w", kube.Describe(obj), err)
		}
		objNS := ""
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			objNS = firstNonEmpty(obj.GetNamespace(), ns, "default")
		}
		cur, err := ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
		if err == nil && obj.GetKind() == "Namespace" && env.Cluster != nil && env.Cluster.Facts.Foreign && !builtinNamespace(obj.GetName()) {
			if _, ours := cur.GetLabels()[ScenarioLabel]; !ours {
				return fmt.Errorf("namespace %s already exists on your cluster %s and ckslab did not create it: refusing to seed %s into it (its objects would be changed, and deleted by reset); run the lab on another cluster or remove that namespace yourself", obj.GetName(), env.Cluster.Name, env.ScenarioID)
			}
		}
		switch {
		case apierrors.IsNotFound(err) || (err == nil && cur.GetLabels()[ScenarioLabel] == LabelValue(env.ScenarioID)):
			labels := obj.GetLabels()
			if labels == nil {
				labels = map[string]string{}
			}
			labels[ScenarioLabel] = LabelValue(env.ScenarioID)
			obj.SetLabels(labels)
			if err := env.Tracker.addObject(ObjectRecord{APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Namespace: objNS, Name: obj.GetName()}); err != nil {
				return fmt.Errorf("record %s for reset: %w", kube.Describe(obj), err)
			}
		case err != nil:
			return fmt.Errorf("apply %s: %w", kube.Ref(obj.GetKind(), objNS, obj.GetName()), kube.Explain(env.Kube.Config.Host, err))
		}
	}
	_, err := env.Kube.Apply(ctx, obj, ns)
	return err
}

// builtinNamespace reports the namespaces every cluster has: seeding
// objects there is expected, the namespace itself is never ckslab's.
func builtinNamespace(name string) bool {
	switch name {
	case "default", "kube-system", "kube-public", "kube-node-lease":
		return true
	}
	return false
}

func listOrGet(ctx context.Context, env *Env, r v1alpha1.ObjectRef) ([]unstructured.Unstructured, error) {
	ri, _, err := env.Kube.Resource(r.APIVersion, r.Kind, r.Namespace)
	if err != nil {
		return nil, err
	}
	if r.Name != "" {
		o, err := ri.Get(ctx, r.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, kube.Explain(env.Kube.Config.Host, err)
		}
		return []unstructured.Unstructured{*o}, nil
	}
	l, err := ri.List(ctx, metav1.ListOptions{LabelSelector: r.Selector})
	if err != nil {
		return nil, kube.Explain(env.Kube.Config.Host, err)
	}
	return l.Items, nil
}

func deleteObjects(ctx context.Context, env *Env, r v1alpha1.ObjectRef) error {
	ri, _, err := env.Kube.Resource(r.APIVersion, r.Kind, r.Namespace)
	if err != nil {
		return fmt.Errorf("delete %s: %w", refString(r), err)
	}
	bg := metav1.DeletePropagationBackground
	if r.Name != "" {
		err := ri.Delete(ctx, r.Name, metav1.DeleteOptions{PropagationPolicy: &bg})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete %s: %w", refString(r), kube.Explain(env.Kube.Config.Host, err))
		}
		return nil
	}
	l, err := ri.List(ctx, metav1.ListOptions{LabelSelector: r.Selector})
	if err != nil {
		return fmt.Errorf("delete %s: %w", refString(r), kube.Explain(env.Kube.Config.Host, err))
	}
	for _, o := range l.Items {
		if err := ri.Delete(ctx, o.GetName(), metav1.DeleteOptions{PropagationPolicy: &bg}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete %s: %w", kube.Describe(&o), kube.Explain(env.Kube.Config.Host, err))
		}
	}
	return nil
}

func patch(ctx context.Context, env *Env, p *v1alpha1.PatchOp) error {
	r := p.Resource
	ri, _, err := env.Kube.Resource(r.APIVersion, r.Kind, r.Namespace)
	if err != nil {
		return fmt.Errorf("patch %s: %w", refString(r), err)
	}
	pt := types.MergePatchType
	switch p.Type {
	case "", "merge":
	case "strategic":
		pt = types.StrategicMergePatchType
	case "json":
		pt = types.JSONPatchType
	default:
		return fmt.Errorf("patch %s: unknown patch type %q (use merge, strategic or json)", refString(r), p.Type)
	}
	body, err := yamlOrJSON(p.Patch)
	if err != nil {
		return fmt.Errorf("patch %s: %w", refString(r), err)
	}
	if _, err := ri.Patch(ctx, r.Name, pt, body, metav1.PatchOptions{FieldManager: kube.FieldManager}); err != nil {
		return fmt.Errorf("patch %s: %w", refString(r), kube.Explain(env.Kube.Config.Host, err))
	}
	return nil
}

// kubectl runs the real kubectl against the lab kubeconfig only. The
// arguments are split shell-style but passed as argv: no shell runs.
func kubectl(ctx context.Context, env *Env, line string) error {
	args, err := SplitArgs(line)
	if err != nil {
		return err
	}
	if len(args) > 0 && args[0] == "kubectl" {
		args = args[1:]
	}
	bin := env.Kubectl
	if bin == "" {
		bin, err = exec.LookPath("kubectl")
		if err != nil {
			return errors.New("kubectl is not installed or not in PATH; install it (https://kubernetes.io/docs/tasks/tools/) to run this scenario")
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = kube.LabEnviron(env.Kube.Kubeconfig)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		if ctx.Err() != nil {
			return fmt.Errorf("kubectl %s: timed out after 2m: %s", line, msg)
		}
		return fmt.Errorf("kubectl %s: %v: %s", line, err, msg)
	}
	for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if l != "" {
			env.logf("  %s", l)
		}
	}
	return nil
}

func wait(ctx context.Context, env *Env, w *v1alpha1.WaitOp) error {
	timeout := 60 * time.Second
	if w.Timeout != "" {
		d, err := time.ParseDuration(w.Timeout)
		if err != nil {
			return fmt.Errorf("wait timeout %q: %w", w.Timeout, err)
		}
		timeout = d
	}
	what := refString(w.Resource)
	cond := "to exist"
	switch {
	case w.Deleted:
		cond = "to be deleted"
	case w.For != "":
		cond = "until " + w.For
	}
	var prg cel.Program
	if w.For != "" && !w.Deleted {
		ce := env.CEL
		if ce == nil {
			var err error
			if ce, err = celx.NewEnv(celx.ObjectVars...); err != nil {
				return err
			}
		}
		var err error
		if prg, err = ce.Compile(w.For, cel.BoolType); err != nil {
			return fmt.Errorf("wait expression %q: %w", w.For, err)
		}
	}
	deadline := time.Now().Add(timeout)
	last := "not checked yet"
	for {
		objs, err := listOrGet(ctx, env, w.Resource)
		done := false
		switch {
		case err != nil:
			last = err.Error()
		case w.Deleted:
			done = len(objs) == 0
			last = fmt.Sprintf("%d object(s) still present", len(objs))
		case len(objs) == 0:
			last = "not found"
		case prg == nil:
			done = true
		default:
			done = true
			for _, o := range objs {
				ok, err := celx.EvalBool(prg, map[string]any{"object": o.Object, "objects": []any{}})
				if err != nil || !ok {
					done = false
					if err != nil {
						last = fmt.Sprintf("%s: %v", kube.Describe(&o), err)
					} else {
						last = fmt.Sprintf("%s: condition false (status: %s)", kube.Describe(&o), briefStatus(o.Object))
					}
					break
				}
			}
		}
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waited %s for %s %s; last state: %s", timeout, what, cond, last)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s %s: %w (last state: %s)", what, cond, ctx.Err(), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func briefStatus(obj map[string]any) string {
	st, ok := obj["status"]
	if !ok {
		return "none"
	}
	s := fmt.Sprint(st)
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

func impersonate(ctx context.Context, env *Env, im *v1alpha1.ImpersonateOp) error {
	c, err := env.Kube.Impersonating(im.User, im.Groups)
	if err != nil {
		return err
	}
	for _, rq := range im.Requests {
		r := rq.Resource
		ri, _, err := c.Resource(r.APIVersion, r.Kind, r.Namespace)
		if err != nil {
			return fmt.Errorf("%s %s as %s: %w", rq.Verb, refString(r), im.User, err)
		}
		switch rq.Verb {
		case "get":
			_, err = ri.Get(ctx, r.Name, metav1.GetOptions{})
		case "list":
			_, err = ri.List(ctx, metav1.ListOptions{LabelSelector: r.Selector})
		case "delete":
			err = ri.Delete(ctx, r.Name, metav1.DeleteOptions{})
		case "create":
			obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": r.APIVersion, "kind": r.Kind,
				"metadata": map[string]any{"name": r.Name, "labels": map[string]any{ScenarioLabel: LabelValue(env.ScenarioID)}}}}
			_, err = ri.Create(ctx, obj, metav1.CreateOptions{})
			if err == nil {
				ns := ""
				if r.Namespace != "" {
					ns = r.Namespace
				}
				if terr := env.Tracker.addObject(ObjectRecord{APIVersion: r.APIVersion, Kind: r.Kind, Namespace: ns, Name: r.Name}); terr != nil {
					return terr
				}
			}
		default:
			return fmt.Errorf("impersonated request verb %q is not supported (get, list, create, delete)", rq.Verb)
		}
		// The point is the audit event: denials and missing objects are expected.
		if err != nil && !apierrors.IsForbidden(err) && !apierrors.IsNotFound(err) && !apierrors.IsAlreadyExists(err) &&
			!apierrors.IsUnauthorized(err) && !apierrors.IsInvalid(err) {
			return fmt.Errorf("%s %s as %s: %w", rq.Verb, refString(r), im.User, kube.Explain(env.Kube.Config.Host, err))
		}
		env.logf("  %s %s as %s: %s", rq.Verb, refString(r), im.User, outcome(err))
	}
	return nil
}

func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	return string(apierrors.ReasonForError(err))
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// yamlOrJSON accepts a patch written as YAML (easier by hand) or JSON.
func yamlOrJSON(s string) ([]byte, error) {
	b, err := sigsyaml.YAMLToJSON([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("patch is neither YAML nor JSON: %w", err)
	}
	return b, nil
}
