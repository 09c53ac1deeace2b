package crds

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/ckslab/ckslab/engine/kube"
)

// Install server-side applies every CustomResourceDefinition of data and
// waits until the ones b.Wait names are Established. Anything but a CRD in
// the file is refused: a CRD bundle installs types, nothing that runs.
func Install(ctx context.Context, k *kube.Client, b Bundle, data []byte) error {
	objs, err := kube.Decode(data)
	if err != nil {
		return fmt.Errorf("decode %s CRDs: %w", b.Name, err)
	}
	if len(objs) == 0 {
		return fmt.Errorf("%s CRD file holds no object", b.Name)
	}
	for _, o := range objs {
		if o.GetKind() != "CustomResourceDefinition" || o.GetAPIVersion() != "apiextensions.k8s.io/v1" {
			return fmt.Errorf("%s CRD file holds %s, which is not a CustomResourceDefinition: refused", b.Name, kube.Describe(o))
		}
	}
	ri, _, err := k.Resource("apiextensions.k8s.io/v1", "CustomResourceDefinition", "")
	if err != nil {
		return err
	}
	if !installed(ctx, ri, objs, b.SHA256) {
		for _, o := range objs {
			ann := o.GetAnnotations()
			if ann == nil {
				ann = map[string]string{}
			}
			ann[BundleAnnotation] = b.Name + "@" + b.SHA256
			o.SetAnnotations(ann)
			if _, err := k.Apply(ctx, o, ""); err != nil {
				return fmt.Errorf("install %s CRDs %s: %w", b.Name, b.Version, err)
			}
		}
		k.Mapper.Reset()
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, name := range b.Wait {
		for {
			cur, err := ri.Get(ctx, name, metav1.GetOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("wait for CRD %s: %w", name, err)
			}
			if err == nil && established(cur) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("CRD %s of %s %s is not Established after 60s", name, b.Name, b.Version)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(250 * time.Millisecond):
			}
		}
	}
	return nil
}

// BundleAnnotation marks a CRD installed from a pinned bundle (name@sha256).
const BundleAnnotation = "ckslab.dev/crd-bundle"

// installed reports whether every CRD of objs is already there from this
// very file (same sha256) and Established, so setup need not re-apply ~1 MB.
func installed(ctx context.Context, ri dynamic.ResourceInterface, objs []*unstructured.Unstructured, sha string) bool {
	for _, o := range objs {
		cur, err := ri.Get(ctx, o.GetName(), metav1.GetOptions{})
		if err != nil || !established(cur) {
			return false
		}
		if v := cur.GetAnnotations()[BundleAnnotation]; len(v) < len(sha) || v[len(v)-len(sha):] != sha {
			return false
		}
	}
	return true
}

func established(o *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if ok && m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}
