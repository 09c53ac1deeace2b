package local

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/ckslab/ckslab/engine/cluster"
)

// components reads the supervisor's state file.
type components struct {
	nodeDir string
}

var _ cluster.Components = (*components)(nil)

// Component implements cluster.Components. Args are the command line the
// running process was started with, as the container sees it.
func (c *components) Component(ctx context.Context, name string) (cluster.ComponentState, error) {
	if err := ctx.Err(); err != nil {
		return cluster.ComponentState{}, err
	}
	st, err := readState(c.nodeDir)
	if err != nil {
		return cluster.ComponentState{}, fmt.Errorf("read component state: %w (is the cluster running? see `ckslab cluster status`)", err)
	}
	cs, ok := st.Components[name]
	if !ok {
		return cluster.ComponentState{}, fmt.Errorf("component %s: no static pod manifest %s/%s.yaml on node %s", name, manifestsPath, name, nodeName)
	}
	out := cs.public()
	if !supervisorRunning(c.nodeDir) {
		out.Running, out.Ready = false, false
	}
	return out, nil
}

// WaitHealthy implements cluster.Components: the component must run the
// manifest currently on disk and answer its health endpoint.
func (c *components) WaitHealthy(ctx context.Context, name string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	manifest := hostPathOf(c.nodeDir, manifestsPath+"/"+name+".yaml")
	var last *componentStatus
	var why string
	for {
		data, err := os.ReadFile(manifest)
		switch {
		case errors.Is(err, os.ErrNotExist):
			why = fmt.Sprintf("the manifest %s/%s.yaml does not exist", manifestsPath, name)
		case err != nil:
			why = err.Error()
		default:
			want := contentHash(data)
			st, err := readState(c.nodeDir)
			if err != nil {
				why = err.Error()
				break
			}
			last = st.Components[name]
			switch {
			case !supervisorRunning(c.nodeDir):
				why = "the local cluster's supervisor is not running (run `ckslab cluster up`)"
			case last == nil:
				why = "not picked up yet"
			case last.ManifestHash != want:
				why = "still running the previous manifest"
			case !last.Running:
				why = "not running"
			case !last.Ready:
				why = "running but not ready yet"
			default:
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not become healthy within %s: %s%s", name, timeout, why, describe(last))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// etcdReader reads raw keys with the node's etcd healthcheck-client
// certificate, as `etcdctl` on a kubeadm node would.
type etcdReader struct {
	cfg *nodeConfig
}

var _ cluster.EtcdReader = (*etcdReader)(nil)

func (e *etcdReader) tlsConfig() (*tls.Config, error) {
	pki := hostPathOf(e.cfg.NodeDir, pkiPath+"/etcd")
	cert, err := tls.LoadX509KeyPair(pki+"/healthcheck-client.crt", pki+"/healthcheck-client.key")
	if err != nil {
		return nil, fmt.Errorf("load etcd client certificate: %w", err)
	}
	caPEM, err := os.ReadFile(pki + "/ca.crt")
	if err != nil {
		return nil, fmt.Errorf("load etcd CA: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	return &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// Get implements cluster.EtcdReader.
func (e *etcdReader) Get(ctx context.Context, key string) ([]byte, error) {
	tc, err := e.tlsConfig()
	if err != nil {
		return nil, err
	}
	endpoint := fmt.Sprintf("127.0.0.1:%d", e.cfg.EtcdClientPort)
	cli, err := clientv3.New(clientv3.Config{
		Context:     ctx,
		Endpoints:   []string{endpoint},
		TLS:         tc,
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("connect to etcd at %s: %w", endpoint, err)
	}
	defer cli.Close()
	resp, err := cli.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("etcd get %s: %w (is etcd running? see `ckslab cluster status`)", key, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, fmt.Errorf("etcd key %s: %w", key, os.ErrNotExist)
	}
	return resp.Kvs[0].Value, nil
}
