package checks

import (
	"context"
	"fmt"
	"strings"

	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
)

type canI struct {
	spec   *v1alpha1.CanICheck
	user   string
	groups []string
	attrs  authzv1.ResourceAttributes
}

func newCanI(c *v1alpha1.CanICheck) (impl, error) {
	if c.Expect != "allowed" && c.Expect != "denied" {
		return nil, fmt.Errorf("canI expect must be allowed or denied, got %q", c.Expect)
	}
	ci := &canI{spec: c, user: c.User, groups: c.Groups}
	if c.ServiceAccount != "" {
		ns, name, ok := strings.Cut(c.ServiceAccount, ":")
		if !ok || ns == "" || name == "" {
			return nil, fmt.Errorf("serviceAccount %q must be namespace:name", c.ServiceAccount)
		}
		ci.user = "system:serviceaccount:" + ns + ":" + name
		ci.groups = append([]string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}, c.Groups...)
	}
	if ci.user == "" && len(ci.groups) == 0 {
		return nil, fmt.Errorf("canI needs a user, groups or serviceAccount")
	}
	res, sub, _ := strings.Cut(c.Resource, "/")
	resource, group, _ := strings.Cut(res, ".")
	ci.attrs = authzv1.ResourceAttributes{Namespace: c.Namespace, Verb: c.Verb, Group: group, Resource: resource, Subresource: sub, Name: c.Name}
	return ci, nil
}

func (c *canI) subject() string {
	if c.spec.ServiceAccount != "" {
		return "ServiceAccount " + strings.Replace(c.spec.ServiceAccount, ":", "/", 1)
	}
	if c.user != "" {
		return "user " + c.user
	}
	return "groups " + strings.Join(c.groups, ",")
}

func (c *canI) run(ctx context.Context, env *Env) outcome {
	if env.Kube == nil {
		return errored("no API client: is a lab running?")
	}
	attrs := c.attrs
	sar := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{User: c.user, Groups: c.groups, ResourceAttributes: &attrs}}
	out, err := env.Kube.Typed.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
	if err != nil {
		return fromErr(env, "SubjectAccessReview", err)
	}
	action := c.spec.Verb + " " + c.spec.Resource
	if c.spec.Name != "" {
		action += " " + c.spec.Name
	}
	if c.spec.Namespace != "" {
		action += " in namespace " + c.spec.Namespace
	} else {
		action += " cluster-wide"
	}
	got := "denied"
	if out.Status.Allowed {
		got = "allowed"
	}
	ev := []string{"found: " + got + reason(out.Status), "expected: " + c.spec.Expect}
	if got == c.spec.Expect {
		return passed(fmt.Sprintf("%s may %s: %s, as expected", c.subject(), action, got), ev...)
	}
	if got == "allowed" {
		return failed(fmt.Sprintf("%s can still %s%s; it must be denied", c.subject(), action, reason(out.Status)), ev...)
	}
	return failed(fmt.Sprintf("%s cannot %s; it must be allowed", c.subject(), action), ev...)
}

func reason(s authzv1.SubjectAccessReviewStatus) string {
	switch {
	case s.Reason != "":
		return " (" + s.Reason + ")"
	case s.EvaluationError != "":
		return " (" + s.EvaluationError + ")"
	}
	return ""
}
