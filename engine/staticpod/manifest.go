package staticpod

import (
	"fmt"
	"path"
	"strings"
)

func container0(pod map[string]any) (map[string]any, error) {
	spec, _ := pod["spec"].(map[string]any)
	cs, _ := spec["containers"].([]any)
	if len(cs) == 0 {
		return nil, fmt.Errorf("the manifest has no containers")
	}
	c, ok := cs[0].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the first container is not a mapping")
	}
	return c, nil
}

func strs(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		out = append(out, fmt.Sprint(e))
	}
	return out
}

// PodCommand is the first container's command followed by its args.
func PodCommand(pod map[string]any) ([]string, error) {
	c, err := container0(pod)
	if err != nil {
		return nil, err
	}
	return append(strs(c["command"]), strs(c["args"])...), nil
}

// PodFlag is the effective value of a flag of the first container.
func PodFlag(pod map[string]any, name string) (string, bool, error) {
	cmd, err := PodCommand(pod)
	if err != nil {
		return "", false, err
	}
	v, ok := ParseCommand(cmd).Value(name)
	return v, ok, nil
}

// Mount is how a container path is served.
type Mount struct {
	// Found is false when no volumeMount covers the path.
	Found     bool
	MountPath string
	Volume    string
	ReadOnly  bool
	// HostPath is the node path the container path resolves to, "" when
	// the volume is not a hostPath.
	HostPath string
}

// MountFor resolves a container path of the first container through the
// volumeMount with the longest covering mountPath, as a container runtime
// does (subPath included).
func MountFor(pod map[string]any, p string) (Mount, error) {
	c, err := container0(pod)
	if err != nil {
		return Mount{}, err
	}
	p = path.Clean(p)
	var best map[string]any
	bestLen := -1
	for _, e := range asList(c["volumeMounts"]) {
		m, _ := e.(map[string]any)
		mp, _ := m["mountPath"].(string)
		if mp == "" {
			continue
		}
		mp = path.Clean(mp)
		if (p == mp || strings.HasPrefix(p, strings.TrimSuffix(mp, "/")+"/")) && len(mp) > bestLen {
			best, bestLen = m, len(mp)
		}
	}
	if best == nil {
		return Mount{}, nil
	}
	out := Mount{Found: true, MountPath: path.Clean(best["mountPath"].(string))}
	out.Volume, _ = best["name"].(string)
	out.ReadOnly, _ = best["readOnly"].(bool)
	spec, _ := pod["spec"].(map[string]any)
	for _, e := range asList(spec["volumes"]) {
		v, _ := e.(map[string]any)
		if name, _ := v["name"].(string); name != out.Volume {
			continue
		}
		hp, _ := v["hostPath"].(map[string]any)
		host, _ := hp["path"].(string)
		if host == "" {
			break
		}
		if sub, _ := best["subPath"].(string); sub != "" {
			host = path.Join(host, path.Clean("/"+sub))
		}
		rest := strings.TrimPrefix(p, out.MountPath)
		out.HostPath = path.Clean(host + "/" + rest)
		break
	}
	return out, nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
