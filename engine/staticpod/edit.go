package staticpod

import (
	"errors"
	"fmt"
	"sort"

	"sigs.k8s.io/yaml"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
)

// EditManifest applies flag and volume edits (an editManifest operation)
// to a static pod manifest: the edited flags take effect whether they were
// written in command or args.
func EditManifest(data []byte, em *v1alpha1.EditManifest) ([]byte, error) {
	var pod map[string]any
	if err := yaml.Unmarshal(data, &pod); err != nil {
		return nil, fmt.Errorf("parse manifest: %w", err)
	}
	spec, _ := pod["spec"].(map[string]any)
	if spec == nil {
		return nil, errors.New("manifest has no spec")
	}
	containers, _ := spec["containers"].([]any)
	if len(containers) == 0 {
		return nil, errors.New("manifest has no containers")
	}
	c0, _ := containers[0].(map[string]any)
	if c0 == nil {
		return nil, errors.New("manifest's first container is not a mapping")
	}
	cmd := strs(c0["command"])
	// Flags in args come after the command's, so they win: an edited flag
	// is taken out of args too, else the edit would not take effect.
	args, hasArgs := c0["args"]
	argv := strs(args)
	bin := ""
	if len(cmd) > 0 {
		bin = cmd[0]
	}
	dropFromArgs := func(f string) {
		if len(argv) > 0 {
			argv = RemoveFlag(append([]string{bin}, argv...), f)[1:]
		}
	}
	for _, f := range em.RemoveFlags {
		cmd = RemoveFlag(cmd, f)
		dropFromArgs(f)
	}
	keys := make([]string, 0, len(em.SetFlags))
	for k := range em.SetFlags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cmd = SetFlag(cmd, k, em.SetFlags[k])
		dropFromArgs(k)
	}
	c0["command"] = toAny(cmd)
	if hasArgs {
		c0["args"] = toAny(argv)
	}
	for _, v := range em.AddHostPathVolumes {
		vols, _ := spec["volumes"].([]any)
		vols = upsertNamed(vols, v.Name, map[string]any{"name": v.Name, "hostPath": hostPath(v)})
		spec["volumes"] = vols
		mounts, _ := c0["volumeMounts"].([]any)
		m := map[string]any{"name": v.Name, "mountPath": v.Path}
		if v.ReadOnly {
			m["readOnly"] = true
		}
		c0["volumeMounts"] = upsertNamed(mounts, v.Name, m)
	}
	containers[0] = c0
	spec["containers"] = containers
	pod["spec"] = spec
	out, err := yaml.Marshal(pod)
	if err != nil {
		return nil, fmt.Errorf("write manifest: %w", err)
	}
	return out, nil
}

func hostPath(v v1alpha1.HostPathVolume) map[string]any {
	h := map[string]any{"path": v.Path}
	if v.Type != "" {
		h["type"] = v.Type
	}
	return h
}

func upsertNamed(list []any, name string, item map[string]any) []any {
	for i, e := range list {
		if m, ok := e.(map[string]any); ok && m["name"] == name {
			list[i] = item
			return list
		}
	}
	return append(list, item)
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, e := range s {
		out[i] = e
	}
	return out
}
