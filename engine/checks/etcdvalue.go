package checks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
)

type etcdValue struct{ spec *v1alpha1.EtcdValueCheck }

func (e etcdValue) run(ctx context.Context, env *Env) outcome {
	if env.Cluster == nil || env.Cluster.Etcd == nil {
		return skipped("this backend cannot read etcd directly, so encryption at rest cannot be verified")
	}
	v, err := env.Cluster.Etcd.Get(ctx, e.spec.Key)
	if errors.Is(err, fs.ErrNotExist) {
		v, err = nil, nil
	}
	if err != nil {
		return errored("read etcd key %s: %s", e.spec.Key, sentence(err.Error()))
	}
	if v == nil {
		return failed(fmt.Sprintf("etcd has no key %s (does the object exist?)", e.spec.Key))
	}
	head := printable(v, 40)
	if e.spec.HasPrefix != "" && !bytes.HasPrefix(v, []byte(e.spec.HasPrefix)) {
		return failed(fmt.Sprintf("etcd value of %s starts with %s, expected %q (stored in plain text?)", e.spec.Key, head, e.spec.HasPrefix),
			"found: "+head, "expected prefix: "+e.spec.HasPrefix)
	}
	if e.spec.NotContain != "" && bytes.Contains(v, []byte(e.spec.NotContain)) {
		return failed(fmt.Sprintf("etcd value of %s contains %q in clear text", e.spec.Key, e.spec.NotContain), "found: "+head)
	}
	return passed(fmt.Sprintf("etcd value of %s starts with %s", e.spec.Key, head))
}

func printable(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return strconv.QuoteToASCII(string(b))
}
