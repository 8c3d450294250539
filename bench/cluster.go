package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-chat/switchboard/actors/ownership/etcdproc"
)

// A cluster run (Profile.Nodes > 1): etcd and the broker nodes are child
// processes of the harness, as the one broker is otherwise. Each node has
// its own data folder, client address and cluster port, picked free on
// 127.0.0.1 before the start so that a killed node comes back on the same
// addresses its clients list. The node holding etcd's key of the actors
// is the owner; the others forward their clients to it.

// clusterNode is one node's process and the addresses it keeps across
// restarts.
type clusterNode struct {
	name, addr, bind, dir string
	p                     *proc // nil while killed and not yet restarted

	// CPU and peak memory of its earlier processes (a node killed and
	// started again), for the report.
	cpuBefore time.Duration
	rssPeak   int64
}

// cluster is etcd and the nodes.
type cluster struct {
	dir      string // etcd's data and the nodes' folders
	key      string // SWITCHBOARD_CLUSTER_KEY
	operator string // the operator token its HTTP routes take
	etcd     *proc
	etcdURL  string
	peers    string // -cluster-peers
	nodes    []*clusterNode
	command  func(args ...string) *exec.Cmd
	admin    string // SWITCHBOARD_ADMIN_TOKEN
	extra    []string
	progress func(format string, args ...any)
	mu       sync.Mutex // guards nodes[i].p while a node restarts
}

// EtcdPath is the etcd binary a cluster run starts by default
// (etcdproc.Path: ETCD_BIN, else etcd on the PATH, else Debian's).
func EtcdPath() string { return etcdproc.Path() }

// freeAddr is a 127.0.0.1 address nothing listens on now. Another process
// may take it before the child binds it; the start fails then, and says
// so.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startCluster starts etcd, then every node at once (they find each other
// over the cluster ports), and waits until one of them owns the actors.
func (r *runner) startCluster(ctx context.Context) error {
	p := r.cfg.Profile
	if _, err := os.Stat(r.cfg.Etcd); err != nil {
		return fmt.Errorf("bench: profile %q needs etcd (apt-get install etcd-server, or set ETCD_BIN): %w", p.Name, err)
	}
	dir, err := os.MkdirTemp("", "switchboard-bench-cluster-*")
	if err != nil {
		return err
	}
	r.dataDir = dir
	key := make([]byte, 24)
	rand.Read(key)
	c := &cluster{dir: dir, key: hex.EncodeToString(key), command: r.cfg.Command, admin: r.adminToken,
		extra: r.extraArgs, progress: r.note}
	r.cl = c
	t0 := time.Now()
	if c.operator, err = c.operatorToken(); err != nil {
		return err
	}
	if err := c.startEtcd(ctx, r.cfg.Etcd); err != nil {
		return err
	}
	var peers []string
	for i := 1; i <= p.Nodes; i++ {
		n := &clusterNode{name: fmt.Sprintf("n%d", i), dir: filepath.Join(dir, fmt.Sprintf("n%d", i))}
		if n.addr, err = freeAddr(); err != nil {
			return err
		}
		if n.bind, err = freeAddr(); err != nil {
			return err
		}
		c.nodes = append(c.nodes, n)
		peers = append(peers, n.name+"="+n.bind)
	}
	c.peers = strings.Join(peers, ",")
	errs := make(chan error, len(c.nodes))
	for _, n := range c.nodes {
		go func() { errs <- c.start(ctx, n) }()
	}
	for range c.nodes {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	if err != nil {
		return err
	}
	owner, err := c.awaitOwner(ctx, 60*time.Second, nil)
	if err != nil {
		return err
	}
	// The Raft leader hands its leadership to the owner within a few
	// seconds (the rates halve until it has): measure once it did. If it
	// does not, the run goes on, and the report says who led.
	if err := pollUntil(ctx, 15*time.Second, func() bool {
		st, err := c.status(ctx, owner)
		return err == nil && st.Raft.State == "Leader"
	}); err != nil {
		r.note("cluster: %s owns the actors but does not lead the Raft group after 15 s", owner.name)
	}
	r.addr = owner.addr
	r.rep.Server.Measured = true
	r.rep.Cluster = &Cluster{Nodes: len(c.nodes), Owner: owner.name, StartS: round3(time.Since(t0).Seconds())}
	if st, err := c.status(ctx, owner); err == nil {
		r.rep.Cluster.RaftLeader = st.Raft.LeaderID
	}
	r.note("cluster: etcd and %d nodes started; %s owns the actors, %q leads the Raft group (%.1f s)", len(c.nodes), owner.name,
		r.rep.Cluster.RaftLeader, time.Since(t0).Seconds())
	return nil
}

// operatorToken asks this program for the operator token that the
// cluster's HTTP routes (GET /cluster/status) take: switchboard cluster
// -print-token derives it from the cluster key, in one place.
func (c *cluster) operatorToken() (string, error) {
	cmd := c.command("cluster", "-print-token")
	cmd.Env = append(cmd.Environ(), "SWITCHBOARD_CLUSTER_KEY="+c.key)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	tok := strings.TrimSpace(string(out))
	if err != nil || tok == "" || strings.ContainsAny(tok, " \n") {
		return "", fmt.Errorf("switchboard cluster -print-token: %v %q %s", err, tok, strings.TrimSpace(stderr.String()))
	}
	return tok, nil
}

// startEtcd runs one etcd member on free loopback ports with its data in
// the cluster's folder, and waits until it answers. Its heartbeat and
// election timeout are short, as in the tests (etcdtest).
func (c *cluster) startEtcd(ctx context.Context, bin string) error {
	var err error
	for range 3 { // a free port may be taken before etcd binds it
		var client, peer string
		if client, err = freeAddr(); err != nil {
			return err
		}
		if peer, err = freeAddr(); err != nil {
			return err
		}
		data := filepath.Join(c.dir, "etcd")
		os.RemoveAll(data)
		url := "http://" + client
		cmd := exec.Command(bin, etcdproc.Args("bench", data, url, "http://"+peer, "stderr")...)
		cmd.Env = etcdproc.Env()
		var p *proc
		if p, err = startProc(ctx, "etcd", cmd, ""); err != nil {
			return err
		}
		hc := &http.Client{Timeout: time.Second}
		err = pollUntil(ctx, 15*time.Second, func() bool {
			select {
			case <-p.exited:
				return true
			default:
			}
			return etcdproc.Healthy(hc, url)
		})
		select {
		case <-p.exited:
			err = fmt.Errorf("etcd exited (%v): %s", p.err, p.lastLog())
		default:
		}
		if err == nil {
			c.etcd, c.etcdURL = p, url
			return nil
		}
		p.kill()
	}
	return fmt.Errorf("etcd did not start: %w", err)
}

// start runs node n (again) on its folder and addresses and waits until it
// serves, as a standby at first.
func (c *cluster) start(ctx context.Context, n *clusterNode) error {
	args := []string{"-addr", n.addr, "-data", n.dir, "-log", "warn", "-limit-frames", "-1", "-limit-conns", "-1", "-limit-chats", "-1",
		"-limit-hellos", "-1", "-line-per-address", "-1", "-silent-wait", "-1s",
		"-cluster-etcd", c.etcdURL, "-cluster-name", n.name, "-cluster-bind", n.bind, "-cluster-peers", c.peers}
	args = append(args, c.extra...)
	cmd := c.command(args...)
	cmd.Env = append(cmd.Environ(), "SWITCHBOARD_ADMIN_TOKEN="+c.admin, "SWITCHBOARD_CLUSTER_KEY="+c.key)
	p, err := startProc(ctx, "node "+n.name, cmd, "Cluster node "+n.name+" listening on http://")
	if err != nil {
		return err
	}
	if p.ready != n.addr {
		p.kill()
		return fmt.Errorf("node %s listens on %s, not %s", n.name, p.ready, n.addr)
	}
	c.mu.Lock()
	n.p = p
	c.mu.Unlock()
	return nil
}

// nodeProc is a running node and its process.
type nodeProc struct {
	*clusterNode
	proc *proc
}

// running are the nodes whose process runs.
func (c *cluster) running() []nodeProc {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []nodeProc
	for _, n := range c.nodes {
		if n.p != nil {
			select {
			case <-n.p.exited:
			default:
				out = append(out, nodeProc{n, n.p})
			}
		}
	}
	return out
}

// wsBases are the nodes' websocket bases, in the nodes' order.
func (c *cluster) wsBases() []string {
	var out []string
	for _, n := range c.nodes {
		out = append(out, "ws://"+n.addr)
	}
	return out
}

// nodeStatus is the part of a node's GET /cluster/status the harness
// reads (cmd/switchboard's ClusterStatus).
type nodeStatus struct {
	Node  string `json:"node"`
	Role  string `json:"role"`
	Owner string `json:"owner"`
	Epoch int64  `json:"epoch"`
	Raft  struct {
		State        string
		LeaderID     string
		CommitIndex  uint64
		AppliedIndex uint64
	} `json:"raft"`
}

// status is n's GET /cluster/status.
func (c *cluster) status(ctx context.Context, n *clusterNode) (nodeStatus, error) {
	var st nodeStatus
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+n.addr+"/cluster/status", nil)
	if err != nil {
		return st, err
	}
	req.Header.Set("Authorization", "Bearer "+c.operator)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		return st, fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// awaitOwner polls the running nodes until every one of them names the
// same owner, other than not, and that node says it owns the actors.
func (c *cluster) awaitOwner(ctx context.Context, d time.Duration, not *clusterNode) (*clusterNode, error) {
	var owner *clusterNode
	var last string
	err := pollUntil(ctx, d, func() bool {
		owner = nil
		name := ""
		for _, n := range c.running() {
			st, err := c.status(ctx, n.clusterNode)
			switch {
			case err != nil:
				last = fmt.Sprintf("%s: %v", n.name, err)
				return false
			case st.Owner == "" || name != "" && st.Owner != name || not != nil && st.Owner == not.name:
				last = fmt.Sprintf("%s names owner %q", n.name, st.Owner)
				return false
			}
			name = st.Owner
			if st.Role == "owner" && st.Owner == n.name {
				owner = n.clusterNode
			}
		}
		if owner == nil {
			last = fmt.Sprintf("%q does not say it owns the actors yet", name)
		}
		return owner != nil
	})
	if err != nil {
		return nil, fmt.Errorf("no owner of the actors that every node names: %w (%s)", err, last)
	}
	return owner, nil
}

// caughtUp polls n until it is a standby of owner and its replica has
// applied what owner's had committed when the wait began.
func (c *cluster) caughtUp(ctx context.Context, n, owner *clusterNode) error {
	ost, err := c.status(ctx, owner)
	if err != nil {
		return err
	}
	var st nodeStatus
	err = pollUntil(ctx, 60*time.Second, func() bool {
		st, err = c.status(ctx, n)
		return err == nil && st.Role == "standby" && st.Owner == owner.name && st.Raft.AppliedIndex >= ost.Raft.CommitIndex
	})
	if err != nil {
		return fmt.Errorf("node %s did not catch up with %s (applied %d of %d, role %q, owner %q): %w",
			n.name, owner.name, st.Raft.AppliedIndex, ost.Raft.CommitIndex, st.Role, st.Owner, err)
	}
	return nil
}

// usage sums the running nodes' CPU and resident memory.
func (c *cluster) usage() usage {
	var sum usage
	for _, n := range c.running() {
		if u, err := procUsage(n.proc.cmd.Process.Pid); err == nil {
			sum.CPU += u.CPU
			sum.RSS += u.RSS
			sum.RSSPeak = max(sum.RSSPeak, u.RSSPeak)
		}
	}
	return sum
}

// account keeps the CPU time and peak memory of n's process p before it
// ends.
func (c *cluster) account(n *clusterNode, p *proc) {
	if u, err := procUsage(p.cmd.Process.Pid); err == nil {
		c.mu.Lock()
		n.cpuBefore += u.CPU
		n.rssPeak = max(n.rssPeak, u.RSSPeak)
		c.mu.Unlock()
	}
}

// kill ends n with SIGKILL, after taking its figures.
func (c *cluster) kill(n *clusterNode) {
	c.mu.Lock()
	p := n.p
	n.p = nil
	c.mu.Unlock()
	if p != nil {
		c.account(n, p)
		p.kill()
	}
}

// stop ends every node with SIGTERM at once (as an operator stops a
// cluster), then etcd, and returns the first node that did not stop
// cleanly; it notes how long each took.
func (c *cluster) stop() error {
	var errs []error
	var wg sync.WaitGroup
	var mu sync.Mutex
	var took []string
	t0 := time.Now()
	for _, n := range c.running() {
		c.account(n.clusterNode, n.proc)
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := n.proc.stop()
			mu.Lock()
			defer mu.Unlock()
			took = append(took, fmt.Sprintf("%s %.1f s", n.name, time.Since(t0).Seconds()))
			if err != nil {
				errs = append(errs, err)
			}
		}()
	}
	wg.Wait()
	if c.etcd != nil {
		c.etcd.stop()
		c.etcd = nil
	}
	c.progress("cluster: stopped (%s)", strings.Join(took, ", "))
	return errors.Join(errs...)
}

// killAll ends whatever still runs (the harness's cleanup).
func (c *cluster) killAll() {
	for _, n := range c.running() {
		n.proc.kill()
	}
	if c.etcd != nil {
		c.etcd.kill()
	}
}

// settledRSS is the running nodes' resident memory, summed, each read
// once it has settled.
func (c *cluster) settledRSS(ctx context.Context) int64 {
	var sum int64
	for _, n := range c.running() {
		sum += settledRSS(ctx, n.proc)
	}
	return sum
}

// figures fills the report's per-node figures and the server's totals:
// CPU summed over the nodes, the peak memory of the largest.
func (c *cluster) figures(rep *Report) {
	cl := rep.Cluster
	cl.NodeCPUS, cl.NodeRSSPeakMB = map[string]float64{}, map[string]float64{}
	var cpu time.Duration
	var peak int64
	for _, n := range c.nodes {
		cl.NodeCPUS[n.name] = round3(n.cpuBefore.Seconds())
		cl.NodeRSSPeakMB[n.name] = round3(float64(n.rssPeak) / (1 << 20))
		cpu += n.cpuBefore
		peak = max(peak, n.rssPeak)
	}
	rep.Server.CPUS = round3(cpu.Seconds())
	rep.Server.RSSPeakMB = round3(float64(peak) / (1 << 20))
}
