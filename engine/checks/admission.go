package checks

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/kube"
)

type admission struct {
	spec  *v1alpha1.AdmissionCheck
	probe *unstructured.Unstructured
	match *regexp.Regexp
}

func newAdmission(a *v1alpha1.AdmissionCheck) (impl, error) {
	if a.Expect != "allowed" && a.Expect != "denied" {
		return nil, fmt.Errorf("admission expect must be allowed or denied, got %q", a.Expect)
	}
	ad := &admission{spec: a}
	if _, ok := psaLevels[a.RequireEnforce]; !ok && a.RequireEnforce != "" {
		return nil, fmt.Errorf("admission requireEnforce must be baseline or restricted, got %q", a.RequireEnforce)
	}
	if a.MessageMatches != "" {
		re, err := regexp.Compile(a.MessageMatches)
		if err != nil {
			return nil, fmt.Errorf("messageMatches: %w", err)
		}
		ad.match = re
	}
	switch {
	case a.Manifest != "" && a.PodTemplateOf != nil:
		return nil, fmt.Errorf("admission takes a manifest or podTemplateOf, not both")
	case a.Manifest != "":
		objs, err := kube.Decode([]byte(a.Manifest))
		if err != nil {
			return nil, fmt.Errorf("manifest: %w", err)
		}
		if len(objs) != 1 {
			return nil, fmt.Errorf("manifest must hold exactly one object, it holds %d", len(objs))
		}
		ad.probe = objs[0]
		if a.Namespace != "" {
			ad.probe.SetNamespace(a.Namespace)
		}
	case a.PodTemplateOf == nil:
		return nil, fmt.Errorf("admission needs a manifest or podTemplateOf")
	}
	return ad, nil
}

// PodFromTemplate turns a workload's pod template into a Pod named after it.
func PodFromTemplate(w *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	var path []string
	switch w.GetKind() {
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController":
		path = []string{"spec", "template"}
	case "CronJob":
		path = []string{"spec", "jobTemplate", "spec", "template"}
	case "Pod":
		return w, nil
	default:
		return nil, fmt.Errorf("%s has no pod template (use Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or CronJob)", w.GetKind())
	}
	tpl, ok, err := unstructured.NestedMap(w.Object, path...)
	if err != nil || !ok {
		return nil, fmt.Errorf("%s has no %s", kube.Describe(w), strings.Join(path, "."))
	}
	spec, _ := tpl["spec"].(map[string]any)
	if spec == nil {
		return nil, fmt.Errorf("%s has an empty pod template", kube.Describe(w))
	}
	md := map[string]any{"name": "ckslab-probe-" + w.GetName(), "namespace": w.GetNamespace()}
	if m, ok := tpl["metadata"].(map[string]any); ok {
		for _, k := range []string{"labels", "annotations"} {
			if v, ok := m[k]; ok {
				md[k] = v
			}
		}
	}
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec}}, nil
}

// psaLevels orders the Pod Security levels; no enforce label is privileged.
var psaLevels = map[string]int{"privileged": 0, "baseline": 1, "restricted": 2}

// checkEnforce fails (settled) when the namespace enforces less than
// spec.RequireEnforce.
func (a *admission) checkEnforce(ctx context.Context, env *Env, ns string) *outcome {
	want := a.spec.RequireEnforce
	if want == "" {
		return nil
	}
	nsObj, err := env.Kube.Typed.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			o := settledFail(fmt.Sprintf("namespace %s does not exist", ns))
			return &o
		}
		o := fromErr(env, "read namespace "+ns, err)
		return &o
	}
	got := nsObj.Labels["pod-security.kubernetes.io/enforce"]
	if psaLevels[got] < psaLevels[want] {
		level, found := got, "found: pod-security.kubernetes.io/enforce: "+got
		if level == "" {
			level, found = "nothing (no pod-security.kubernetes.io/enforce label)", "found: no enforce label"
		}
		o := settledFail(fmt.Sprintf("namespace %s enforces %s, not %s, so being admitted there proves nothing", ns, level, want),
			found, "expected: pod-security.kubernetes.io/enforce: "+want)
		return &o
	}
	return nil
}

func (a *admission) run(ctx context.Context, env *Env) outcome {
	if env.Kube == nil {
		return errored("no API client: is a lab running?")
	}
	var probe *unstructured.Unstructured
	var what string
	if a.probe != nil {
		probe = a.probe.DeepCopy()
		what = kube.Describe(probe)
	} else {
		objs, o := fetch(ctx, env, *a.spec.PodTemplateOf)
		if o != nil {
			return *o
		}
		if len(objs) == 0 {
			return failed(fmt.Sprintf("%s not found; it must exist for its pods to be admitted", describeRef(*a.spec.PodTemplateOf)))
		}
		p, err := PodFromTemplate(&objs[0])
		if err != nil {
			return errored("%v", err)
		}
		probe = p
		what = "the pod template of " + kube.Describe(&objs[0])
	}
	if o := a.checkEnforce(ctx, env, probe.GetNamespace()); o != nil {
		return *o
	}
	ri, _, err := env.Kube.Resource(probe.GetAPIVersion(), probe.GetKind(), probe.GetNamespace())
	if err != nil {
		return fromErr(env, "", err)
	}
	// Dry run: admission runs in full, nothing is persisted.
	_, err = ri.Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldManager: kube.FieldManager})
	denied := err != nil && (apierrors.IsForbidden(err) || apierrors.IsInvalid(err) || apierrors.IsBadRequest(err))
	if err != nil && !denied {
		if apierrors.IsNotFound(err) {
			return failed(fmt.Sprintf("cannot create %s: %v", what, apierrors.ReasonForError(err)), "found: "+sentence(err.Error()))
		}
		if apierrors.IsAlreadyExists(err) {
			return errored("a %s named %s already exists, so the dry-run probe cannot be evaluated; delete it", probe.GetKind(), probe.GetName())
		}
		return fromErr(env, "dry-run create "+what, err)
	}
	msg := ""
	if err != nil {
		msg = sentence(err.Error())
	}
	switch {
	case a.spec.Expect == "allowed" && !denied:
		return passed(what+" is admitted", "found: admitted", "expected: allowed")
	case a.spec.Expect == "allowed":
		return failed(fmt.Sprintf("%s is rejected: %s", what, msg), "found: denied: "+msg, "expected: allowed")
	case !denied:
		ev := []string{"found: admitted", "expected: denied"}
		if a.match != nil {
			ev[1] += " with a message matching " + a.match.String()
		}
		return failed(what+" is admitted; it must be rejected", ev...)
	case a.match != nil && !a.match.MatchString(err.Error()):
		return failed(fmt.Sprintf("%s is rejected, but not for the expected reason: %s", what, msg),
			"found: "+msg, "expected: a message matching "+a.match.String())
	}
	return passed(what+" is rejected: "+msg, "found: denied: "+msg, "expected: denied")
}
