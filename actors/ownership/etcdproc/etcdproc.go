// Package etcdproc is how Switchboard runs a one-member etcd as a child
// process on loopback (Debian's etcd-server 3.4): for the tests
// (actors/ownership/etcdtest) and for the bench's cluster profile. It
// knows the binary, the flags, the environment and the health check;
// starting, waiting and stopping stay with each caller.
package etcdproc

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// Path is the etcd binary: ETCD_BIN, else etcd on the PATH, else
// Debian's /usr/bin/etcd.
func Path() string {
	if p := os.Getenv("ETCD_BIN"); p != "" {
		return p
	}
	if p, err := exec.LookPath("etcd"); err == nil {
		return p
	}
	return "/usr/bin/etcd"
}

// Args are the flags of one member called name, with its data in dataDir,
// serving clients at clientURL and its peer at peerURL (http://host:port),
// logging at level warn to logOutput (a file, or stderr). A short election
// timeout (and heartbeat, well below it) makes a restarted member lead
// again in about half a second.
func Args(name, dataDir, clientURL, peerURL, logOutput string) []string {
	return []string{
		"--name", name,
		"--data-dir", dataDir,
		"--listen-client-urls", clientURL,
		"--advertise-client-urls", clientURL,
		"--listen-peer-urls", peerURL,
		"--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", name + "=" + peerURL,
		"--initial-cluster-state", "new",
		"--heartbeat-interval", "50",
		"--election-timeout", "500",
		"--logger", "zap",
		"--log-outputs", logOutput,
		"--log-level", "warn",
	}
}

// Env is this process's environment without ETCD_* variables, which etcd
// would read as flags (and refuse when they clash with Args). etcd 3.4
// runs only on amd64 and ppc64le unless ETCD_UNSUPPORTED_ARCH names the
// architecture.
func Env() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ETCD_") {
			out = append(out, kv)
		}
	}
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "ppc64le" {
		out = append(out, "ETCD_UNSUPPORTED_ARCH="+runtime.GOARCH)
	}
	return out
}

// Healthy reports whether the member at clientURL answers its /health
// with {"health":"true"}: it has a leader and serves a read.
func Healthy(hc *http.Client, clientURL string) bool {
	resp, err := hc.Get(clientURL + "/health")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	return resp.StatusCode == http.StatusOK && bytes.Contains(body, []byte(`"health":"true"`))
}
