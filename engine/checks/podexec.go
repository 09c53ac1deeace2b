package checks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	osexec "os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/kube"
)

// execResult is what a command run in a container did.
type execResult struct {
	code           int
	stdout, stderr string
}

// containerExec runs argv in one container of a pod. A command that ran
// returns its status in execResult whatever it is; err means it could not
// be run (no such container, the API refused the exec).
type containerExec func(ctx context.Context, env *Env, pod *corev1.Pod, container string, argv []string) (execResult, error)

// ExecTimeout bounds one command run in a container.
const ExecTimeout = 20 * time.Second

type podExec struct {
	spec                      *v1alpha1.PodExecCheck
	stdout, stdoutNot, stderr *regexp.Regexp
	exec                      containerExec
}

func newPodExec(s *v1alpha1.PodExecCheck) (impl, error) {
	if len(s.Command) == 0 {
		return nil, errors.New("command is empty")
	}
	p := &podExec{spec: s, exec: kubectlExec}
	for _, r := range []struct {
		field, re string
		dst       **regexp.Regexp
	}{{"stdoutMatches", s.StdoutMatches, &p.stdout}, {"stdoutNotMatches", s.StdoutNotMatches, &p.stdoutNot}, {"stderrMatches", s.StderrMatches, &p.stderr}} {
		if r.re == "" {
			continue
		}
		re, err := regexp.Compile(r.re)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.field, err)
		}
		*r.dst = re
	}
	return p, nil
}

func (p *podExec) run(ctx context.Context, env *Env) outcome {
	pods, o := runningPods(ctx, env, p.spec.Namespace, p.spec.Selector, p.spec.Name, p.spec.Container)
	if o != nil {
		return *o
	}
	line := shellLine(p.spec.Command)
	var bad, evidence []string
	for i := range pods {
		pod := &pods[i]
		c := containerOf(pod, p.spec.Container)
		where := fmt.Sprintf("%s/%s (container %s)", pod.Namespace, pod.Name, c)
		ctx, cancel := context.WithTimeout(ctx, ExecTimeout)
		res, err := p.exec(ctx, env, pod, c, p.spec.Command)
		cancel()
		if err != nil {
			return errored("run %s in %s: %s", line, where, sentence(err.Error()))
		}
		ev := fmt.Sprintf("%s: exit %d; stdout: %s; stderr: %s", where, res.code, quoteOut(res.stdout), quoteOut(res.stderr))
		evidence = append(evidence, ev)
		if why := p.judge(res); why != "" {
			bad = append(bad, where+": "+why)
		}
	}
	if len(bad) > 0 {
		return failed(fmt.Sprintf("%s in %s", line, strings.Join(bad, "; ")), append(evidence, "expected: "+p.expected())...)
	}
	return passed(fmt.Sprintf("%s in %d running pod(s): %s", line, len(pods), p.expected()), evidence...)
}

// judge says why res does not meet the spec, or "".
func (p *podExec) judge(res execResult) string {
	var why []string
	switch {
	case p.spec.ExitNonZero:
		if res.code == 0 {
			why = append(why, "exited 0, expected a failure")
		}
	default:
		want := 0
		if p.spec.ExitCode != nil {
			want = *p.spec.ExitCode
		}
		if res.code != want {
			why = append(why, fmt.Sprintf("exited %d, expected %d", res.code, want))
		}
	}
	if p.stdout != nil && !p.stdout.MatchString(res.stdout) {
		why = append(why, fmt.Sprintf("stdout %s does not match %s", quoteOut(res.stdout), p.spec.StdoutMatches))
	}
	if p.stdoutNot != nil && p.stdoutNot.MatchString(res.stdout) {
		why = append(why, fmt.Sprintf("stdout %s matches %s", quoteOut(res.stdout), p.spec.StdoutNotMatches))
	}
	if p.stderr != nil && !p.stderr.MatchString(res.stderr) {
		why = append(why, fmt.Sprintf("stderr %s does not match %s", quoteOut(res.stderr), p.spec.StderrMatches))
	}
	return strings.Join(why, ", ")
}

func (p *podExec) expected() string {
	parts := []string{"exit 0"}
	switch {
	case p.spec.ExitNonZero:
		parts[0] = "a non-zero exit"
	case p.spec.ExitCode != nil:
		parts[0] = fmt.Sprintf("exit %d", *p.spec.ExitCode)
	}
	if p.stdout != nil {
		parts = append(parts, "stdout matching "+p.spec.StdoutMatches)
	}
	if p.stdoutNot != nil {
		parts = append(parts, "stdout not matching "+p.spec.StdoutNotMatches)
	}
	if p.stderr != nil {
		parts = append(parts, "stderr matching "+p.spec.StderrMatches)
	}
	return strings.Join(parts, ", ")
}

func quoteOut(s string) string { return strconv.Quote(truncate(strings.TrimSpace(s), 200)) }

func shellLine(argv []string) string {
	var parts []string
	for _, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$;&|<>*?()") {
			a = strconv.Quote(a)
		}
		parts = append(parts, a)
	}
	return "`" + strings.Join(parts, " ") + "`"
}

// containerOf is the named container, or the pod's first one.
func containerOf(pod *corev1.Pod, name string) string {
	if name != "" || len(pod.Spec.Containers) == 0 {
		return name
	}
	return pod.Spec.Containers[0].Name
}

// runningPods returns the pods of ns selected by name or selector whose
// container (the first when "") is running. None running is a Fail (the
// objective is not met: nothing runs to show the behaviour), with what
// each selected pod is doing instead as evidence.
func runningPods(ctx context.Context, env *Env, ns, selector, name, container string) ([]corev1.Pod, *outcome) {
	if env.Kube == nil {
		o := errored("no cluster is running (ckslab start <id>)")
		return nil, &o
	}
	var items []corev1.Pod
	what := fmt.Sprintf("pods %s in namespace %s", selector, ns)
	if name != "" {
		what = fmt.Sprintf("pod %s/%s", ns, name)
		pod, err := env.Kube.Typed.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			o := failed(fmt.Sprintf("%s does not exist", what))
			return nil, &o
		case err != nil:
			o := fromErr(env, "get "+what, err)
			return nil, &o
		}
		items = []corev1.Pod{*pod}
	} else {
		list, err := env.Kube.Typed.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			o := fromErr(env, "list "+what, err)
			return nil, &o
		}
		items = list.Items
	}
	var run []corev1.Pod
	var other []string
	for _, p := range items {
		if p.DeletionTimestamp != nil {
			continue // on its way out: it no longer shows the current state
		}
		c := containerOf(&p, container)
		if state := containerState(&p, c); state != "" {
			other = append(other, fmt.Sprintf("%s/%s: %s", p.Namespace, p.Name, state))
			continue
		}
		run = append(run, p)
	}
	if len(run) == 0 {
		msg := fmt.Sprintf("no running pod: %s", what)
		if len(other) == 0 {
			msg += " matches none"
		} else {
			msg += " are not running (" + strings.Join(other, "; ") + ")"
		}
		o := failed(msg, other...)
		return nil, &o
	}
	return run, nil
}

// containerState is "" when container c of pod runs, else what it does.
func containerState(pod *corev1.Pod, c string) string {
	found := false
	for _, sc := range pod.Spec.Containers {
		found = found || sc.Name == c
	}
	if !found {
		return fmt.Sprintf("has no container %q", c)
	}
	if pod.Status.Phase != corev1.PodRunning {
		reason := string(pod.Status.Phase)
		for _, cs := range pod.Status.ContainerStatuses {
			if cs.Name == c && cs.State.Waiting != nil {
				reason += ", " + cs.State.Waiting.Reason
			}
		}
		for _, cond := range pod.Status.Conditions {
			if cond.Type == corev1.PodScheduled && cond.Status != corev1.ConditionTrue && cond.Message != "" {
				reason += ", " + cond.Message
			}
		}
		return reason
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name != c {
			continue
		}
		switch {
		case cs.State.Running != nil:
			return ""
		case cs.State.Waiting != nil:
			return "container " + c + " " + cs.State.Waiting.Reason
		case cs.State.Terminated != nil:
			return fmt.Sprintf("container %s terminated (%s, exit %d)", c, cs.State.Terminated.Reason, cs.State.Terminated.ExitCode)
		}
	}
	return "container " + c + " has no status yet"
}

// kubectlTerminated is how kubectl exec reports the remote command's
// non-zero exit status on stderr.
var kubectlTerminated = regexp.MustCompile(`(?m)^command terminated with exit code (\d+)\s*\z`)

// remoteExit splits kubectl exec's stderr into the remote command's exit
// status and its own stderr; ok is false when kubectl itself failed.
func remoteExit(stderr string) (code int, rest string, ok bool) {
	m := kubectlTerminated.FindStringSubmatchIndex(stderr)
	if m == nil {
		return 0, stderr, false
	}
	code, err := strconv.Atoi(stderr[m[2]:m[3]])
	return code, stderr[:m[0]], err == nil
}

// kubectlExec runs argv in a container through kubectl exec (the lab
// kubeconfig only), so no streaming client is linked into ckslab. kubectl
// exits with the remote status and says so on stderr; any other non-zero
// exit is kubectl's own failure.
func kubectlExec(ctx context.Context, env *Env, pod *corev1.Pod, container string, argv []string) (execResult, error) {
	bin, err := osexec.LookPath("kubectl")
	if err != nil {
		return execResult{}, errors.New("kubectl is not in PATH; it is needed to exec into pods")
	}
	args := append([]string{"exec", "-n", pod.Namespace, pod.Name, "-c", container, "--"}, argv...)
	cmd := osexec.CommandContext(ctx, bin, args...)
	cmd.Env = kube.LabEnviron(env.Kube.Kubeconfig)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if ctx.Err() != nil {
		return execResult{}, fmt.Errorf("did not finish within %s", ExecTimeout)
	}
	res := execResult{stdout: stdout.String(), stderr: stderr.String()}
	var ee *osexec.ExitError
	switch {
	case err == nil:
		return res, nil
	case errors.As(err, &ee):
		code, rest, ok := remoteExit(res.stderr)
		if !ok {
			return execResult{}, errors.New(strings.TrimSpace(res.stderr))
		}
		res.code, res.stderr = code, rest
		return res, nil
	default:
		return execResult{}, err
	}
}
