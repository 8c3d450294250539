package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/actors/ownership/etcdtest"
	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

const testClusterKey = "cluster-key-for-tests-only"

// testCluster is etcd and three switchboard nodes, each a child process
// on its own data folder, client address and cluster port.
type testCluster struct {
	t     *testing.T
	etcd  *etcdtest.Etcd
	peers string
	nodes []*clusterChild
}

// clusterChild is one node's process; it can be killed, paused and
// started again on the same folder and addresses.
type clusterChild struct {
	name, dir, addr, bind string
	join                  bool // started without -cluster-peers
	cmd                   *exec.Cmd
	exited                chan struct{} // closed once the process ended
}

func startTestCluster(t *testing.T) *testCluster {
	t.Helper()
	c := &testCluster{t: t, etcd: etcdtest.Start(t)}
	var peers []string
	for i := 1; i <= 3; i++ {
		n := &clusterChild{name: fmt.Sprintf("n%d", i), dir: t.TempDir(), addr: freeAddr(t), bind: freeAddr(t)}
		c.nodes = append(c.nodes, n)
		peers = append(peers, n.name+"="+n.bind)
	}
	c.peers = strings.Join(peers, ",")
	// All three at once: the nodes start in any order.
	starts := make(chan error, len(c.nodes))
	for _, n := range c.nodes {
		go func() { starts <- c.start(n) }()
	}
	for range c.nodes {
		if err := <-starts; err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, n := range c.nodes {
			n.signal(syscall.SIGKILL)
			<-n.exited
		}
	})
	return c
}

// start runs n and waits until it serves (as a standby, at first).
func (c *testCluster) start(n *clusterChild) error {
	args := "-demo -log error -limit-frames -1 -limit-conns -1 -limit-chats -1 -limit-hellos -1 -line-per-address -1" +
		" -addr " + n.addr + " -data " + n.dir + " -cluster-etcd " + c.etcd.Endpoints()[0] +
		" -cluster-name " + n.name + " -cluster-bind " + n.bind
	if !n.join {
		args += " -cluster-peers " + c.peers
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SWITCHBOARD_TEST_CHILD=1", "SWITCHBOARD_TEST_ARGS="+args,
		"SWITCHBOARD_ADMIN_TOKEN="+testAdminToken, "SWITCHBOARD_ARGON2_MEMORY_KIB=64", "SWITCHBOARD_CLUSTER_KEY="+testClusterKey)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = tlogWriter{c.t}
	if err := cmd.Start(); err != nil {
		return err
	}
	n.cmd, n.exited = cmd, make(chan struct{})
	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		said := false
		for sc.Scan() {
			if !said && strings.HasPrefix(sc.Text(), "Cluster node "+n.name+" listening on http://") {
				said = true
				close(found)
			}
		}
	}()
	go func() {
		cmd.Wait()
		close(n.exited)
	}()
	select {
	case <-found:
		return nil
	case <-n.exited:
		return fmt.Errorf("node %s exited at start: %v", n.name, cmd.ProcessState)
	case <-time.After(30 * time.Second):
		return fmt.Errorf("node %s did not start", n.name)
	}
}

func (n *clusterChild) signal(sig syscall.Signal) {
	select {
	case <-n.exited:
	default:
		n.cmd.Process.Signal(sig)
	}
}

func (n *clusterChild) alive() bool {
	select {
	case <-n.exited:
		return false
	default:
		return true
	}
}

// status is a node's GET /cluster/status.
func (n *clusterChild) status(chat string) (ClusterStatus, error) {
	return fetchStatus(context.Background(), n.addr, testClusterKey, chat)
}

// awaitOwner waits until the running nodes among among agree on one owner
// (that one says so itself) and returns it with its epoch.
func (c *testCluster) awaitOwner(among ...*clusterChild) (*clusterChild, int64) {
	c.t.Helper()
	var owner *clusterChild
	var epoch int64
	eventually(c.t, "one owner that every node names", func() bool {
		owner, epoch = nil, 0
		for _, n := range among {
			st, err := n.status("")
			if err != nil || st.Owner == "" || (epoch != 0 && st.Epoch != epoch) {
				return false
			}
			epoch = st.Epoch
			if st.Role == "owner" {
				if st.Owner != n.name {
					return false
				}
				owner = n
			}
		}
		return owner != nil
	})
	return owner, epoch
}

// awaitNewOwner is awaitOwner, for an owner above epoch.
func (c *testCluster) awaitNewOwner(epoch int64, among ...*clusterChild) *clusterChild {
	c.t.Helper()
	owner, newEpoch := c.awaitOwner(among...)
	if newEpoch <= epoch {
		c.t.Fatalf("new owner %s at epoch %d, not above %d", owner.name, newEpoch, epoch)
	}
	return owner
}

// visitorBack reconnects a visitor through addr with its resume token,
// once the cluster answers there again.
func visitorBack(t *testing.T, addr string, vw *messages.Welcome, chat string) *gateway.Client {
	t.Helper()
	var v *gateway.Client
	eventually(t, "the visitor back in", func() bool {
		ctx, cancel := context.WithTimeout(ctxT(t), 2*time.Second)
		defer cancel()
		var err error
		v, err = resumeVisitor(ctx, addr, vw, chat)
		return err == nil
	})
	t.Cleanup(func() { v.CloseNow() })
	return v
}

func (c *testCluster) others(not ...*clusterChild) []*clusterChild {
	var out []*clusterChild
	for _, n := range c.nodes {
		if !slices.Contains(not, n) {
			out = append(out, n)
		}
	}
	return out
}

// TestClusterNodeKilled: three nodes on etcd; in each cycle a visitor
// and an agent, connected to a standby, stream messages in a chat while a
// node is killed with SIGKILL: the owner of the actors in three cycles,
// the standby they are connected through in one. They reconnect to the
// other survivor with their tokens; the chat accepts a new message again
// (how soon is reported; the bench checks the 5 s budget); every acknowledged message is in its chat's log once,
// in order; both resume with no gap and no duplicate; the owner's epoch
// grows with each new owner and only then; the killed node comes back as
// a standby.
func TestClusterNodeKilled(t *testing.T) {
	c := startTestCluster(t)
	var failovers []time.Duration
	var lastEpoch int64
	for cycle, killOwner := range []bool{true, false, true, true} {
		owner, epoch := c.awaitOwner(c.nodes...)
		// The leader hands the Raft leadership to the owner, which
		// writes nearly everything.
		eventually(t, "the owner leading the Raft group", func() bool {
			st, err := owner.status("")
			return err == nil && st.Raft.State == "Leader"
		})
		if cycle > 0 && epoch != lastEpoch {
			t.Fatalf("cycle %d: the killed node's restart moved the actors: epoch %d, was %d", cycle, epoch, lastEpoch)
		}
		standbys := c.others(owner)
		entry, next := standbys[cycle%2], standbys[(cycle+1)%2]
		victim := owner
		if !killOwner {
			victim = entry
		}

		a, aw := newAgent(t, entry.addr, "alice@demo", "alice-demo-pw", true)
		v, vw := newVisitor(t, entry.addr, true)
		chat := mustChatID(t, requestChat(t, v, "sales", "en", fmt.Sprint("hello ", cycle)))
		accept(t, a, awaitOffer(t, a).GetChatId())
		awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetAssigned() != nil })

		var killed time.Time
		acked, n := streamUntilKill(t, func() {
			killed = time.Now()
			victim.signal(syscall.SIGKILL)
		}, v, a, chat)
		<-victim.exited

		// The visitor comes back through the other survivor and writes
		// until the chat accepts again.
		// The 5 s budget is the bench's to check (bench -profile cluster):
		// a timed assertion flakes on a loaded two-core machine. Here the
		// chat must accept again within the poll's deadline, and the time
		// is reported.
		took := firstAckAfter(t, next.addr, vw, chat, killed)
		survivors := c.others(victim)
		newOwner, newEpoch := c.awaitOwner(survivors...)
		switch {
		case killOwner && newEpoch <= epoch:
			t.Fatalf("cycle %d: new owner %s at epoch %d, not above %d", cycle, newOwner.name, newEpoch, epoch)
		case !killOwner && (newOwner != owner || newEpoch != epoch):
			t.Fatalf("cycle %d: a standby's death moved the actors: %s at %d, was %s at %d", cycle, newOwner.name, newEpoch, owner.name, epoch)
		}
		if killOwner {
			failovers = append(failovers, took)
		}
		lastEpoch = newEpoch
		last := checkStoredAfterKill(t, next.addr, chat, acked)
		visitorResumesAfterKill(t, next.addr, vw, chat, last, acked)
		a2 := agentResumesAfterKill(t, next.addr, aw, chat, last)
		if _, err := a2.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: chat}}}); err != nil {
			t.Fatal(err)
		}
		a2.CloseNow() // the next cycle's agent connection gets the offer
		sameLogEverywhere(t, chat, survivors...)
		t.Logf("cycle %d: %s killed (the owner: %v) after %d acknowledged messages; %s owns at epoch %d; the chat accepted again after %s",
			cycle, victim.name, killOwner, n, newOwner.name, newEpoch, took.Round(time.Millisecond))

		if err := c.start(victim); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(failovers)
	t.Logf("failover (SIGKILL of the owner to the chat's next acknowledged message): p50 %s, max %s over %d cycles",
		failovers[len(failovers)/2].Round(time.Millisecond), failovers[len(failovers)-1].Round(time.Millisecond), len(failovers))
}

// firstAckAfter reconnects the visitor to addr, resuming, and sends until
// a message is acknowledged; it returns the time from since.
func firstAckAfter(t *testing.T, addr string, vw *messages.Welcome, chat string, since time.Time) time.Duration {
	t.Helper()
	var took time.Duration
	eventually(t, "the chat accepts a message after the failover", func() bool {
		ctx, cancel := context.WithTimeout(ctxT(t), 2*time.Second)
		defer cancel()
		c, err := resumeVisitor(ctx, addr, vw, chat)
		if err != nil {
			return false
		}
		defer c.CloseNow()
		text := "after the failover"
		reply, err := c.Call(ctx, &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: chat, ClientMsgId: text, Text: text}}})
		if err != nil || reply.GetAck() == nil {
			return false
		}
		took = time.Since(since)
		return true
	})
	return took
}

// resumeVisitor connects a visitor to addr with its resume token, from
// the chat's last stored sequence there.
func resumeVisitor(ctx context.Context, addr string, vw *messages.Welcome, chat string) (*gateway.Client, error) {
	last, err := lastSeqOf(addr, chat)
	if err != nil {
		return nil, err
	}
	c, err := gateway.Dial(ctx, "ws://"+addr+"/ws/visitor", gateway.ClientOptions{JSON: true})
	if err != nil {
		return nil, err
	}
	if _, err := c.Hello(ctx, &messages.Hello{ResumeToken: vw.GetResumeToken(), Cursors: map[string]uint64{chat: last}}); err != nil {
		c.CloseNow()
		return nil, err
	}
	return c, nil
}

// lastSeqOf is a chat's last sequence on the node at addr.
func lastSeqOf(addr, chat string) (uint64, error) {
	st, err := fetchStatus(context.Background(), addr, testClusterKey, chat)
	if err != nil {
		return 0, err
	}
	return st.Chat.LastSeq, nil
}

// sameLogEverywhere: the chat's log ends at the same sequence on every
// node given (each applies the one replicated log).
func sameLogEverywhere(t *testing.T, chat string, nodes ...*clusterChild) {
	t.Helper()
	eventually(t, "the chat's log alike on every node", func() bool {
		var seqs []uint64
		for _, n := range nodes {
			s, err := lastSeqOf(n.addr, chat)
			if err != nil {
				return false
			}
			seqs = append(seqs, s)
		}
		return slices.Min(seqs) == slices.Max(seqs)
	})
}

// TestClusterPausedOwnerStops: the owner is stopped with SIGSTOP past its
// lease; another node takes over and the chat goes on there. When the old
// owner runs again it must not serve: it exits (non-zero), and the chat's
// log is the same on every node (nothing forked).
func TestClusterPausedOwnerStops(t *testing.T) {
	c := startTestCluster(t)
	owner, epoch := c.awaitOwner(c.nodes...)
	standbys := c.others(owner)
	entry := standbys[0]
	v, vw := newVisitor(t, entry.addr, true)
	chat := mustChatID(t, requestChat(t, v, "sales", "en", "hello"))
	a, _ := newAgent(t, entry.addr, "alice@demo", "alice-demo-pw", true)
	accept(t, a, awaitOffer(t, a).GetChatId())
	awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetAssigned() != nil })
	send(t, v, chat, "before", "before the pause")

	owner.signal(syscall.SIGSTOP)
	paused := time.Now()
	// A write that is no chat append (which the sequence check would
	// refuse anyway) waits in the paused owner's socket: only the fence
	// can refuse it once the owner runs again.
	late := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("PUT", "http://"+owner.addr+"/admin/departments/late", strings.NewReader(`{"name": "Late", "chat_enabled": true}`))
		req.Header.Set("Authorization", "Bearer "+testAdminToken)
		res, err := (&http.Client{Timeout: time.Minute}).Do(req)
		if err != nil {
			late <- 0
			return
		}
		res.Body.Close()
		late <- res.StatusCode
	}()
	newOwner := c.awaitNewOwner(epoch, standbys...)
	// The clients come back through a survivor and the chat goes on.
	v2 := visitorBack(t, entry.addr, vw, chat)
	seq := send(t, v2, chat, "during", "while the old owner is paused")
	// The scenario is an 8 s pause (the issue's): past the 2 s lease by
	// far. Nothing is polled here; the pause's length is the point.
	<-time.After(time.Until(paused.Add(8 * time.Second)))
	owner.signal(syscall.SIGCONT)
	select {
	case <-owner.exited:
	case <-time.After(20 * time.Second):
		t.Fatal("the paused owner still runs 20 s after it resumed")
	}
	if code := owner.cmd.ProcessState.ExitCode(); code == 0 {
		t.Fatalf("the old owner exited with 0; it must say it lost the actors")
	}
	if code := <-late; code/100 == 2 {
		t.Fatalf("the old owner took a write after it resumed: %d", code)
	}
	var dir map[string]any
	admin(t, newOwner.addr, "GET", "/admin/directory", nil, &dir)
	if departments := toJSON(dir["departments"]); !strings.Contains(departments, `"sales"`) || strings.Contains(departments, `"late"`) {
		t.Fatalf("the old owner's late write landed: %s", departments)
	}
	sameLogEverywhere(t, chat, standbys...)
	rec := record(t, newOwner.addr, chat)
	if got := rec.GetTranscript(); uint64(len(got)) < seq || got[seq-1].GetMessage().GetText() != "while the old owner is paused" {
		t.Fatalf("the message sent during the pause is not at %d: %v", seq, got)
	}
	if err := c.start(owner); err != nil {
		t.Fatal(err)
	}
	if st, err := owner.status(""); err != nil || st.Role != "standby" || st.Owner != newOwner.name {
		t.Fatalf("the old owner restarted: %+v %v; want a standby following %s", st, err, newOwner.name)
	}
}

// The cluster's status needs the cluster key.
func TestClusterStatusNeedsTheKey(t *testing.T) {
	c := startTestCluster(t)
	owner, _ := c.awaitOwner(c.nodes...)
	// The cluster key itself is not the token: it never travels on the
	// client port.
	for _, key := range []string{"", "wrong-key-wrong-key", testClusterKey} {
		req, _ := http.NewRequest("GET", "http://"+owner.addr+"/cluster/status", nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Code string `json:"code"`
		}
		json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("key %q: %d %+v", key, res.StatusCode, body)
		}
	}
	var out, errOut strings.Builder
	t.Setenv("SWITCHBOARD_CLUSTER_KEY", testClusterKey)
	addrs := c.nodes[0].addr + "," + c.nodes[1].addr + "," + c.nodes[2].addr
	if err := runCluster(ctxT(t), []string{"-addr", addrs}, &out, &errOut); err != nil {
		t.Fatalf("switchboard cluster: %v %s", err, errOut.String())
	}
	for _, n := range c.nodes {
		if !strings.Contains(out.String(), n.name+" ") {
			t.Fatalf("switchboard cluster does not list %s:\n%s", n.name, out.String())
		}
	}
	if !strings.Contains(out.String(), "owner") {
		t.Fatalf("no owner in:\n%s", out.String())
	}
	var tok strings.Builder
	if err := runCluster(ctxT(t), []string{"-print-token"}, &tok, &errOut); err != nil || strings.TrimSpace(tok.String()) != operatorToken(testClusterKey) {
		t.Fatalf("-print-token: %q %v", tok.String(), err)
	}
}

// TestClusterJoinAndLeave: a fourth node started without peers joins the
// running group; then the owner leaves cleanly: its actors move to
// another node, the group drops it, and it exits 0. The chat goes on.
func TestClusterJoinAndLeave(t *testing.T) {
	c := startTestCluster(t)
	n4 := &clusterChild{name: "n4", dir: t.TempDir(), addr: freeAddr(t), bind: freeAddr(t), join: true}
	if err := c.start(n4); err != nil {
		t.Fatal(err)
	}
	c.nodes = append(c.nodes, n4)
	voters := func(n *clusterChild) []string {
		st, err := n.status("")
		if err != nil {
			return nil
		}
		var ids []string
		for _, v := range st.Raft.Voters {
			ids = append(ids, v.ID)
		}
		slices.Sort(ids)
		return ids
	}
	eventually(t, "n4 a voter, on every node", func() bool {
		for _, n := range c.nodes {
			if strings.Join(voters(n), ",") != "n1,n2,n3,n4" {
				return false
			}
		}
		return true
	})

	owner, epoch := c.awaitOwner(c.nodes...)
	entry := c.others(owner)[0]
	a, _ := newAgent(t, entry.addr, "alice@demo", "alice-demo-pw", true)
	v, vw := newVisitor(t, entry.addr, true)
	chat := mustChatID(t, requestChat(t, v, "sales", "en", "hello"))
	accept(t, a, awaitOffer(t, a).GetChatId())
	first := send(t, v, chat, "m1", "before the leave")

	req, _ := http.NewRequest("POST", "http://"+owner.addr+"/cluster/leave", nil)
	req.Header.Set("Authorization", "Bearer "+operatorToken(testClusterKey))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("leave: %d", res.StatusCode)
	}
	select {
	case <-owner.exited:
	case <-time.After(40 * time.Second):
		t.Fatal("the leaving node still runs")
	}
	if code := owner.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("a clean leave exited %d", code)
	}
	rest := c.others(owner)
	c.awaitNewOwner(epoch, rest...)
	var want []string
	for _, n := range rest {
		want = append(want, n.name)
	}
	slices.Sort(want)
	eventually(t, "the group without the node that left", func() bool {
		for _, n := range rest {
			if strings.Join(voters(n), ",") != strings.Join(want, ",") {
				return false
			}
		}
		return true
	})
	v2 := visitorBack(t, entry.addr, vw, chat)
	if seq := send(t, v2, chat, "m2", "after the leave"); seq <= first {
		t.Fatalf("after the leave: seq %d, not after %d", seq, first)
	}
	sameLogEverywhere(t, chat, rest...)
}

// TestClusterEtcdUnreachable: etcd stops answering (paused). The owner
// serves on until its lease's deadline, then stops and exits 1; no node
// can take the actors meanwhile, and a standby answers a temporary
// error. Once etcd answers again a node takes over and the chat goes on
// with nothing lost.
func TestClusterEtcdUnreachable(t *testing.T) {
	c := startTestCluster(t)
	owner, epoch := c.awaitOwner(c.nodes...)
	standbys := c.others(owner)
	entry := standbys[0]
	a, _ := newAgent(t, entry.addr, "alice@demo", "alice-demo-pw", true)
	v, vw := newVisitor(t, entry.addr, true)
	chat := mustChatID(t, requestChat(t, v, "sales", "en", "hello"))
	accept(t, a, awaitOffer(t, a).GetChatId())
	first := send(t, v, chat, "m1", "before etcd went away")

	c.etcd.Pause()
	select {
	case <-owner.exited:
	case <-time.After(20 * time.Second):
		t.Fatal("the owner still runs 20 s after etcd stopped answering")
	}
	if code := owner.cmd.ProcessState.ExitCode(); code == 0 {
		t.Fatal("the owner exited 0 on a lost lease")
	}
	// No owner now: a standby says so, as a temporary error.
	res, err := http.Get("http://" + entry.addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Fatalf("a standby with no owner: %d %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	c.etcd.Resume()
	c.awaitNewOwner(epoch, standbys...)
	v2 := visitorBack(t, entry.addr, vw, chat)
	if seq := send(t, v2, chat, "m2", "after etcd came back"); seq <= first {
		t.Fatalf("seq %d after %d", seq, first)
	}
	rec := record(t, entry.addr, chat)
	if got := rec.GetTranscript(); uint64(len(got)) < first || got[first-1].GetMessage().GetText() != "before etcd went away" {
		t.Fatalf("the message acknowledged before the outage is not at %d", first)
	}
	sameLogEverywhere(t, chat, standbys...)
}
