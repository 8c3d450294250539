package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	rnd "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

// runner is one run of the harness.
type runner struct {
	cfg        Config
	rep        *Report
	addr       string // the broker's host:port
	adminToken string
	broker     *proc // nil with Target, or in a cluster run
	cl         *cluster
	sim        *sim
	brokerPID  atomic.Int64        // for the sampler; 0 once stopped
	serverPID  atomic.Int64        // the server whose CPU the phases measure
	live       atomic.Pointer[sim] // what the sampler counts: the broker's clients, then the echo's
	agents     []*peer
	agentDefs  []benchAgent
	began      time.Time

	phase     phaseName
	mu        sync.Mutex
	series    []Sample
	pool      []*peer // idle visitors
	dataDir   string
	debugAddr string
	extraArgs []string // the broker's flags beyond the harness's own (routing_overhead.go)
}

// profile takes a CPU profile of the broker for d in the background, into
// Out/broker-<name>.pprof; the returned function waits for it.
func (r *runner) profile(name string, d time.Duration) func() {
	if r.debugAddr == "" || d < time.Second {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", r.debugAddr, int(d.Seconds()))
		resp, err := http.Get(url)
		if err != nil {
			r.note("pprof: %v", err)
			return
		}
		defer resp.Body.Close()
		f, err := os.Create(filepath.Join(r.cfg.Out, "broker-"+name+".pprof"))
		if err != nil {
			r.note("pprof: %v", err)
			return
		}
		defer f.Close()
		io.Copy(f, resp.Body)
		// And the allocations so far (alloc_space covers the whole run).
		if resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/allocs", r.debugAddr)); err == nil {
			defer resp.Body.Close()
			if f, err := os.Create(filepath.Join(r.cfg.Out, "broker-"+name+".allocs.pprof")); err == nil {
				defer f.Close()
				io.Copy(f, resp.Body)
			}
		}
	}()
	return func() { <-done }
}

// Run drives one load run and returns its report, which it also writes to
// cfg.Out. A run whose invariants do not hold returns the report and an
// error.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, rep: newReport(cfg.Profile), began: time.Now()}
	r.phase.sim = r.live.Load
	r.phase.Store("setup")
	defer r.cleanup()
	if err := r.run(ctx); err != nil {
		return r.rep, err
	}
	if err := r.rep.write(cfg.Out, r.series); err != nil {
		return r.rep, err
	}
	r.rep.printTable(cfg.Summary, cfg.Out)
	if v := r.rep.Invariants.violations(); v != "" {
		// The first notes say what broke, where a caller sees only the error.
		notes := append(append([]string(nil), r.rep.Invariants.Notes...), r.rep.BadInput.Notes...)
		if len(notes) > 3 {
			notes = notes[:3]
		}
		return r.rep, fmt.Errorf("bench: invariants broken: %s (%s)", v, strings.Join(notes, "; "))
	}
	return r.rep, nil
}

func (r *runner) cleanup() {
	if r.broker != nil {
		r.broker.kill()
	}
	if r.cl != nil {
		r.cl.killAll()
	}
	if r.dataDir != "" && !r.cfg.KeepData {
		os.RemoveAll(r.dataDir)
	} else if r.dataDir != "" {
		fmt.Fprintf(r.cfg.Progress, "broker data kept in %s\n", r.dataDir)
	}
}

func (r *runner) run(ctx context.Context) error {
	p := r.cfg.Profile
	if err := r.startBroker(ctx); err != nil {
		return err
	}
	r.sim = newSim("ws://"+r.addr, p.MessageBytes, p.Window)
	if r.cl != nil {
		r.sim.bases, r.sim.keepAcks = r.cl.wsBases(), true
	}
	r.live.Store(r.sim)
	stopSampler := r.sample()
	defer stopSampler()
	// Idle connections first, on a fresh broker: the memory they cost is
	// not blurred by what the later phases (or argon2 at login) allocated
	// and the runtime has not yet handed back.
	if err := r.idle(ctx); err != nil {
		return fmt.Errorf("idle connections: %w", err)
	}
	if err := r.setUp(ctx); err != nil {
		return fmt.Errorf("setting up the directory: %w", err)
	}

	if err := r.assign(ctx); err != nil {
		return fmt.Errorf("assignment phases: %w", err)
	}
	if err := r.routingPhase(ctx); err != nil {
		return fmt.Errorf("routing phase: %w", err)
	}
	shape, err := r.messagesPhases(ctx)
	if err != nil {
		return fmt.Errorf("message phases: %w", err)
	}
	r.badInput(ctx, r.cfg.Profile.BadInputRounds)
	r.attackRound(ctx)
	s := r.sim
	r.rep.Chats.Started, r.rep.Chats.Assigned, r.rep.Chats.Completed = s.started.Load(), s.assigned.Load(), s.completed.Load()
	r.rep.Chats.Refused = s.refused.Load()
	r.rep.Messages.Sent, r.rep.Messages.Delivered = s.sent.Load(), s.delivered.Load()
	r.rep.Invariants = Invariants{OverCapacity: s.led.overCap.Load(), DoubleAssigned: s.led.double.Load(),
		LostMessages: s.lost(), DuplicateMessages: s.led.dup.Load(), OutOfOrder: s.led.ooo.Load(),
		AgentStateMismatch: s.led.stateMismatch.Load(), badInputUnexpected: r.rep.BadInput.Unexpected}
	s.led.mu.Lock()
	r.rep.Invariants.Notes = append([]string(nil), s.led.notes...)
	s.led.mu.Unlock()
	r.rep.Errors = s.errs.Load()
	if e, ok := s.lastErr.Load().(string); ok {
		r.rep.LastError = e
	}
	// Every visitor is back in the pool by now: all of them and the agents
	// were open at once.
	r.rep.Server.ConnectionsHeld = max(r.rep.Server.ConnectionsHeld, len(r.agents)+len(r.pool))
	for _, a := range r.agents {
		a.c.close()
	}
	for _, v := range r.pool {
		v.c.close()
	}
	if err := r.stopBroker(); err != nil {
		return err
	}
	if err := r.echo(ctx, shape); err != nil {
		return fmt.Errorf("echo baseline: %w", err)
	}
	r.rep.DurationS = round3(time.Since(r.began).Seconds())
	if r.cfg.KeepData {
		r.rep.DataDir = r.dataDir
	}
	if r.rep.Baseline.EchoPerS > 0 {
		r.rep.Ratio.MessagesVsEcho = round3(r.rep.Messages.PerS / r.rep.Baseline.EchoPerS)
	}
	return nil
}

func (r *runner) startBroker(ctx context.Context) error {
	if r.cfg.Target != "" {
		r.addr, r.adminToken = r.cfg.Target, r.cfg.AdminToken
		if r.adminToken == "" {
			return errors.New("bench: -target needs the broker's admin token")
		}
		return nil
	}
	dir, err := os.MkdirTemp("", "switchboard-bench-*")
	if err != nil {
		return err
	}
	r.dataDir = dir
	tok := make([]byte, 16)
	rand.Read(tok)
	r.adminToken = hex.EncodeToString(tok)
	if r.cfg.Profile.Nodes > 1 {
		os.Remove(dir) // the cluster makes its own
		r.dataDir = ""
		if r.cfg.Pprof {
			r.note("pprof: not taken in a cluster run")
		}
		return r.startCluster(ctx)
	}
	if r.cfg.Pprof {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		r.debugAddr = ln.Addr().String()
		ln.Close()
	}
	r.rep.Server.Measured = true
	return r.spawnBroker(ctx)
}

// spawnBroker starts the broker child on the run's data folder (again,
// after a crash cycle killed it).
func (r *runner) spawnBroker(ctx context.Context) error {
	// Every simulated client comes from 127.0.0.1 and agents stream far
	// faster than people type: the abuse limits are off in the broker the
	// harness starts (a token bucket check costs next to nothing).
	args := []string{"-addr", "127.0.0.1:0", "-data", r.dataDir, "-log", "warn", "-limit-frames", "-1", "-limit-conns", "-1", "-limit-chats", "-1", "-limit-hellos", "-1", "-line-per-address", "-1", "-silent-wait", "-1s"}
	if r.debugAddr != "" {
		args = append(args, "-debug-addr", r.debugAddr)
	}
	args = append(args, r.extraArgs...)
	cmd := r.cfg.Command(args...)
	cmd.Env = append(cmd.Environ(), "SWITCHBOARD_ADMIN_TOKEN="+r.adminToken)
	var err error
	if r.broker, err = startProc(ctx, "broker", cmd, "Listening on http://"); err != nil {
		return err
	}
	r.addr = r.broker.ready
	r.brokerPID.Store(int64(r.broker.cmd.Process.Pid))
	r.serverPID.Store(int64(r.broker.cmd.Process.Pid))
	return nil
}

// account adds the running broker's CPU time and peak memory to the
// report (before it stops or is killed).
func (r *runner) account() {
	if u, err := procUsage(r.broker.cmd.Process.Pid); err == nil {
		r.rep.Server.CPUS = round3(r.rep.Server.CPUS + u.CPU.Seconds())
		r.rep.Server.RSSPeakMB = round3(max(r.rep.Server.RSSPeakMB, float64(u.RSSPeak)/(1<<20)))
	}
}

func (r *runner) stopBroker() error {
	if r.cl != nil {
		err := r.cl.stop()
		r.cl.figures(r.rep)
		return err
	}
	if r.broker == nil {
		return nil
	}
	r.account()
	r.brokerPID.Store(0)
	r.serverPID.Store(0)
	err := r.broker.stop()
	r.broker = nil
	return err
}

// cpuMark is the CPU time so far of the server being measured (the
// broker, or the echo server; 0 when not measured) and of this process,
// the load generator; and, in the broker's phases, its /metrics (broker
// nil when not served). After since, broker0 is the earlier scrape.
type cpuMark struct {
	server, loadgen time.Duration
	brokerPhase     bool
	broker, broker0 *brokerScrape
}

func (r *runner) cpu() cpuMark {
	var m cpuMark
	m.brokerPhase = r.live.Load() == r.sim
	if pid := r.serverPID.Load(); pid != 0 {
		u, _ := procUsage(int(pid))
		m.server = u.CPU
	} else if r.cl != nil && m.brokerPhase {
		m.server = r.cl.usage().CPU
	}
	u, _ := procUsage(os.Getpid())
	m.loadgen = u.CPU
	if m.brokerPhase {
		m.broker = scrapeBroker(context.Background(), r.addr)
	}
	return m
}

func (m cpuMark) since(old cpuMark) cpuMark {
	return cpuMark{server: m.server - old.server, loadgen: m.loadgen - old.loadgen,
		brokerPhase: m.brokerPhase, broker: m.broker, broker0: old.broker}
}

// idle holds many idle visitor connections in child processes and measures
// the broker's resident memory before and after.
func (r *runner) idle(ctx context.Context) error {
	p := r.cfg.Profile
	n := p.IdleConnections
	if n == 0 {
		return nil
	}
	r.phase.Store("idle")
	before := r.settledRSS(ctx)
	var holders []*proc
	defer func() {
		for _, h := range holders {
			h.stop()
		}
	}()
	for left := n; left > 0; left -= p.IdlePerHolder {
		k := min(left, p.IdlePerHolder)
		base := r.sim.wsBase
		if r.cl != nil { // a cluster's idle visitors are spread over its nodes
			base = r.sim.bases[len(holders)%len(r.sim.bases)]
		}
		cmd := r.cfg.Command("bench-hold", "-url", base+"/ws/visitor", "-n", strconv.Itoa(k))
		h, err := startProc(ctx, "connection holder", cmd, "holding ")
		if err != nil {
			return err
		}
		holders = append(holders, h)
	}
	after := r.settledRSS(ctx)
	r.rep.Server.ConnectionsHeld = n
	if r.broker != nil || r.cl != nil {
		r.rep.Server.BytesPerConnection = math.Round(float64(after-before) / float64(n))
		r.rep.Server.IdleRSSMB = round3(float64(after) / (1 << 20))
	}
	r.note("idle: %d connections held; broker RSS %.1f MB -> %.1f MB", n, float64(before)/(1<<20), float64(after)/(1<<20))
	return nil
}

// settledRSS polls the broker's resident memory until two readings half a
// second apart differ by less than 1% (at most 10 s).
func (r *runner) settledRSS(ctx context.Context) int64 {
	if r.cl != nil {
		return r.cl.settledRSS(ctx)
	}
	if r.broker == nil {
		return 0
	}
	return settledRSS(ctx, r.broker)
}

// settledRSS polls p's resident memory until two readings half a second
// apart differ by less than 1% (at most 10 s).
func settledRSS(ctx context.Context, p *proc) int64 {
	prev := int64(-1)
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for i := 0; i < 20; i++ {
		u, err := procUsage(p.cmd.Process.Pid)
		if err != nil {
			return 0
		}
		if prev >= 0 && math.Abs(float64(u.RSS-prev)) < 0.01*float64(prev) {
			return u.RSS
		}
		prev = u.RSS
		select {
		case <-t.C:
		case <-ctx.Done():
			return prev
		}
	}
	return prev
}

// phaseName is the runner's current phase, shared with the simulated
// clients so that what they note says when it happened.
type phaseName struct {
	v   atomic.Value
	sim func() *sim
}

func (p *phaseName) Store(name string) {
	p.v.Store(name)
	if p.sim != nil {
		if s := p.sim(); s != nil {
			s.phase.Store(name)
		}
	}
}

func (p *phaseName) Load() any { return p.v.Load() }

// note writes a line to the progress output.
func (r *runner) note(format string, args ...any) {
	fmt.Fprintf(r.cfg.Progress, "%7.1fs  "+format+"\n", append([]any{time.Since(r.began).Seconds()}, args...)...)
}

// visitor takes an idle visitor connection from the pool, or opens one.
func (r *runner) visitor(ctx context.Context) (*peer, error) {
	r.mu.Lock()
	if n := len(r.pool); n > 0 {
		v := r.pool[n-1]
		r.pool = r.pool[:n-1]
		r.mu.Unlock()
		return v, nil
	}
	r.mu.Unlock()
	v := r.sim.newPeer(kindVisitor)
	if err := v.connect(ctx, "/ws/visitor", &messages.Hello{}); err != nil {
		return nil, err
	}
	return v, nil
}

func (r *runner) release(v *peer) {
	r.mu.Lock()
	r.pool = append(r.pool, v)
	r.mu.Unlock()
}

// homePair is the department and language visitor slot i asks for.
func (r *runner) homePair(i int) (string, string) {
	a := r.agentDefs[i%len(r.agentDefs)]
	return a.HomeDept, a.HomeLang
}

// conversation runs one chat: ask, wait for an agent, exchange the
// configured messages both ways (the sides stream them as soon as the
// chat is assigned), close.
func (r *runner) conversation(ctx context.Context, v *peer, dept, lang string) {
	s := r.sim
	chat, refused, err := r.requestChat(ctx, v, dept, lang)
	switch {
	case err != nil:
		s.fail("request chat: %v", err)
		return
	case refused != nil:
		s.refused.Add(1)
		return
	}
	if what := v.await(ctx, "done"); what != "done" {
		s.fail("chat %s: ended before its messages were exchanged (%s)", chat, what)
		return
	}
	r.closeChat(ctx, v, chat)
}

// requestChat asks for a chat as visitor v; a chat started is counted.
func (r *runner) requestChat(ctx context.Context, v *peer, dept, lang string) (string, *messages.ChatRefused, error) {
	reply, err := v.call(ctx, &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{
		Department: dept, Language: lang, Name: "Bench visitor"}}})
	if err != nil {
		return "", nil, err
	}
	if ref := reply.GetChatRefused(); ref != nil {
		return "", ref, nil
	}
	r.sim.started.Add(1)
	return reply.GetAck().GetChatId(), nil, nil
}

// closeChat closes the visitor's chat and waits for its Closed event.
func (r *runner) closeChat(ctx context.Context, v *peer, chat string) {
	s := r.sim
	if _, err := v.call(ctx, &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: chat}}}); err != nil {
		s.fail("close chat %s: %v", chat, err)
		return
	}
	if what := v.await(ctx, "closed"); what != "closed" {
		s.fail("chat %s: no Closed event (%s)", chat, what)
		return
	}
	s.completed.Add(1)
	v.mu.Lock()
	delete(v.chats, chat)
	v.mu.Unlock()
}

// await waits for the visitor's next notification about its chat.
func (p *peer) await(ctx context.Context, want string) string {
	t := time.NewTimer(60 * time.Second)
	defer t.Stop()
	for {
		select {
		case what := <-p.notify:
			if what == want || what == "closed" {
				return what
			}
		case <-p.c.done:
			return fmt.Sprintf("connection closed: %v", p.c.err)
		case <-t.C:
			return "timeout after 60 s"
		case <-ctx.Done():
			return ctx.Err().Error()
		}
	}
}

// assign runs the two assignment phases: closed loop to find the highest
// rate, then open loop at half of it for the latency.
func (r *runner) assign(ctx context.Context) error {
	p, s := r.cfg.Profile, r.sim
	s.convLimit.Store(int64(p.ConvMessages))
	conv := &Hist{}
	s.msgHist.Store(conv)

	rate, err := r.assignMax(ctx, "assign-max")
	if err != nil {
		return err
	}
	r.rep.Chats.AssignmentsPerS = round1(rate)
	if rate, err = r.routingOverhead(ctx, rate); err != nil {
		return err
	}

	r.phase.Store("assign-half")
	half := rate / 2
	hist := &Hist{}
	s.assignHist.Store(hist)
	cpu0 := r.cpu()
	start := time.Now()
	end := start.Add(p.AssignPhase)
	t := time.NewTicker(time.Millisecond)
	var k int
	var wg sync.WaitGroup
	for now := start; now.Before(end) && ctx.Err() == nil; now = <-t.C {
		due := int(now.Sub(start).Seconds() * half)
		for ; k < due; k++ {
			dept, lang := r.homePair(rnd.IntN(len(r.agentDefs)))
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := r.visitor(ctx)
				if err != nil {
					s.fail("visitor: %v", err)
					return
				}
				r.conversation(ctx, v, dept, lang)
				r.release(v)
			}()
		}
	}
	t.Stop()
	dur := time.Since(start)
	wg.Wait()
	r.rep.Chats.AssignLatencyMs = hist.Summary()
	r.rep.Chats.OfferedPerS = round1(half)
	r.rep.Chats.ConvMessageLatencyMs = conv.Summary()
	r.rep.addPhase("assign-half", dur, half, float64(k)/dur.Seconds(), "assignments/s", hist, r.cpu().since(cpu0))
	r.note("assign-half: %d chats at %.0f/s (open loop); assignment p99 %.2f ms", k, half, hist.Quantile(0.99))
	return nil
}

// assignMax is the closed loop of assignments, as phase name: each
// visitor runs conversations in its home department and language; it
// returns the rate.
func (r *runner) assignMax(ctx context.Context, name string) (float64, error) {
	p, s := r.cfg.Profile, r.sim
	r.phase.Store(name)
	vs := make([]*peer, p.AssignVisitors)
	if err := parallel(ctx, len(vs), 16, func(i int) (err error) {
		vs[i], err = r.visitor(ctx)
		return err
	}); err != nil {
		return 0, err
	}
	maxHist := &Hist{}
	s.assignHist.Store(maxHist)
	end := time.Now().Add(p.AssignPhase)
	var wg sync.WaitGroup
	for i, v := range vs {
		dept, lang := r.homePair(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) && ctx.Err() == nil {
				r.conversation(ctx, v, dept, lang)
			}
		}()
	}
	prof := r.profile(name, p.AssignPhase*8/10)
	rate, dur, cpu := r.measure(ctx, s, end, &s.assigned, nil)
	prof()
	wg.Wait()
	for _, v := range vs {
		r.release(v)
	}
	r.rep.addPhase(name, dur, 0, rate, "assignments/s", maxHist, cpu)
	r.note("%s: %.0f assignments/s (closed loop, %d visitors)", name, rate, len(vs))
	return rate, nil
}

// measure waits until end and returns the rate of counter over the time
// after a warm-up of a tenth of the phase (at least 500 ms); if hist is
// given, it becomes the message histogram after the warm-up.
func (r *runner) measure(ctx context.Context, s *sim, end time.Time, counter *atomic.Uint64, hist *Hist) (float64, time.Duration, cpuMark) {
	total := time.Until(end)
	warm := max(total/10, 500*time.Millisecond)
	if warm > total/2 {
		warm = total / 2
	}
	sleepCtx(ctx, warm)
	if hist != nil {
		s.msgHist.Store(hist)
	}
	c0, t0, cpu0 := counter.Load(), time.Now(), r.cpu()
	sleepCtx(ctx, time.Until(end))
	dur := time.Since(t0)
	return float64(counter.Load()-c0) / dur.Seconds(), dur, r.cpu().since(cpu0)
}

func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// messagesPhases opens the message phases' chats, streams in closed loop,
// then open loop at half the closed loop's rate, drains and closes. It
// returns the shape (streams per agent connection) for the echo baseline.
func (r *runner) messagesPhases(ctx context.Context) ([]int, error) {
	p, s := r.cfg.Profile, r.sim
	r.phase.Store("open-chats")
	s.convLimit.Store(0)
	vs := make([]*peer, p.Chats)
	chats := make([]string, p.Chats)
	err := parallel(ctx, p.Chats, 16, func(i int) error {
		v, err := r.visitor(ctx)
		if err != nil {
			return err
		}
		vs[i] = v
		dept, lang := r.homePair(i)
		chat, refused, err := r.requestChat(ctx, v, dept, lang)
		switch {
		case err != nil:
			return err
		case refused != nil:
			return fmt.Errorf("chat refused: %v %s", refused.GetReason(), refused.GetMessage())
		}
		chats[i] = chat
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := pollUntil(ctx, 60*time.Second, func() bool {
		for i, v := range vs {
			if !v.isAssigned(chats[i]) {
				return false
			}
		}
		return true
	}); err != nil {
		return nil, fmt.Errorf("not every chat was assigned: %w", err)
	}
	var shape []int
	for _, a := range r.agents {
		if n := a.activeCount(); n > 0 {
			shape = append(shape, n)
		}
	}
	for range vs {
		shape = append(shape, 1)
	}

	conns := append(append([]*peer{}, vs...), r.agents...)
	perS, err := r.streamPhases(ctx, s, "msg", conns)
	if err != nil {
		return nil, err
	}
	r.rep.Messages.PerS = round1(perS.max)
	r.rep.Messages.OfferedPerS = round1(perS.offered)
	r.rep.Messages.LatencyMs = perS.halfHist.Summary()
	r.rep.Messages.SaturatedLatencyMs = perS.maxHist.Summary()
	if err := r.crashCycles(ctx, vs, chats); err != nil {
		return nil, fmt.Errorf("crash cycles: %w", err)
	}
	if err := r.failovers(ctx, vs, chats); err != nil {
		return nil, fmt.Errorf("failover cycles: %w", err)
	}

	r.phase.Store("close-chats")
	if err := parallel(ctx, len(vs), 16, func(i int) error {
		r.closeChat(ctx, vs[i], chats[i])
		r.release(vs[i])
		return nil
	}); err != nil {
		return nil, err
	}
	return shape, nil
}

type streamResult struct {
	max, offered      float64
	maxHist, halfHist *Hist
}

// streamPhases runs the closed-loop and the open-loop phase over the
// message sides of conns, then stops and drains.
func (r *runner) streamPhases(ctx context.Context, s *sim, name string, conns []*peer) (streamResult, error) {
	p := r.cfg.Profile
	var res streamResult
	r.phase.Store(name + "-max")
	s.mode.Store(modeClosed)
	end := time.Now().Add(p.MessagePhase)
	type stream struct {
		p  *peer
		sd *side
	}
	var streams []stream
	for _, c := range conns {
		for _, sd := range c.start(p.Window) {
			streams = append(streams, stream{c, sd})
		}
	}
	res.maxHist = &Hist{}
	var dur time.Duration
	var cpu cpuMark
	prof := func() {}
	if s == r.sim {
		prof = r.profile(name+"-max", p.MessagePhase*8/10)
	}
	res.max, dur, cpu = r.measure(ctx, s, end, &s.delivered, res.maxHist)
	prof()
	r.rep.addPhase(name+"-max", dur, 0, res.max, "messages/s", res.maxHist, cpu)
	r.note("%s-max: %.0f messages/s over %d streams (closed loop, window %d)", name, res.max, len(streams), p.Window)

	r.phase.Store(name + "-half")
	s.mode.Store(modeOpen)
	res.offered = res.max / 2
	res.halfHist = &Hist{}
	start := time.Now()
	end = start.Add(p.MessagePhase)
	const pacers = 4
	var wg sync.WaitGroup
	for g := 0; g < pacers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []stream
			for i := g; i < len(streams); i += pacers {
				mine = append(mine, streams[i])
			}
			if len(mine) == 0 {
				return
			}
			rate := res.offered * float64(len(mine)) / float64(len(streams))
			t := time.NewTicker(time.Millisecond)
			defer t.Stop()
			k := 0
			for now := start; now.Before(end) && ctx.Err() == nil; now = <-t.C {
				due := int(now.Sub(start).Seconds() * rate)
				for ; k < due; k++ {
					st := mine[k%len(mine)]
					due := start.Add(time.Duration(float64(k) / rate * float64(time.Second))).Sub(s.epoch)
					st.p.paced(st.sd, due)
				}
			}
		}()
	}
	prof = func() {}
	if s == r.sim {
		prof = r.profile(name+"-half", p.MessagePhase*8/10)
	}
	rate, dur, cpu := r.measure(ctx, s, end, &s.delivered, res.halfHist)
	prof()
	wg.Wait()
	s.mode.Store(modeStop)
	r.rep.addPhase(name+"-half", dur, res.offered, rate, "messages/s", res.halfHist, cpu)
	lag := s.lag.Summary()
	r.rep.Phases[len(r.rep.Phases)-1].PacerLagMs = &lag
	r.note("%s-half: %.0f messages/s offered (open loop); p99 %.2f ms", name, res.offered, res.halfHist.Quantile(0.99))

	r.phase.Store(name + "-drain")
	if err := pollUntil(ctx, 30*time.Second, func() bool { return s.acked.Load() == s.sent.Load() && s.lost() == 0 }); err != nil {
		r.note("%s-drain: %d messages unacknowledged, %d acknowledged but not delivered", name, s.sent.Load()-s.acked.Load(), s.lost())
	}
	return res, nil
}

// echo measures the baseline with the message phases' shape.
func (r *runner) echo(ctx context.Context, shape []int) error {
	r.phase.Store("echo-setup")
	cmd := r.cfg.Command("bench-echo", "-addr", "127.0.0.1:0")
	ep, err := startProc(ctx, "echo server", cmd, "Listening on http://")
	if err != nil {
		return err
	}
	defer ep.stop()
	s := newSim("ws://"+ep.ready, r.cfg.Profile.MessageBytes, r.cfg.Profile.Window)
	s.epoch = r.sim.epoch
	r.live.Store(s)
	conns := make([]*peer, len(shape))
	if err := parallel(ctx, len(shape), 16, func(i int) error {
		p := s.newPeer(kindEcho)
		for j := 0; j < shape[i]; j++ {
			id := fmt.Sprintf("e%d-%d", i, j)
			p.chats[id] = &side{chat: id, stat: s.stat(id)}
		}
		conns[i] = p
		return p.connect(ctx, "/echo", nil)
	}); err != nil {
		return err
	}
	r.serverPID.Store(int64(ep.cmd.Process.Pid))
	defer r.serverPID.Store(0)
	cpu0, _ := procUsage(ep.cmd.Process.Pid)
	res, err := r.streamPhases(ctx, s, "echo", conns)
	if err != nil {
		return err
	}
	cpu1, _ := procUsage(ep.cmd.Process.Pid)
	for _, c := range conns {
		c.c.close()
	}
	r.rep.Baseline.EchoPerS = round1(res.max)
	r.rep.Baseline.EchoOfferedPerS = round1(res.offered)
	r.rep.Baseline.EchoLatencyMs = res.halfHist.Summary()
	r.rep.Baseline.EchoSaturatedLatencyMs = res.maxHist.Summary()
	r.rep.Baseline.EchoCPUS = round3((cpu1.CPU - cpu0.CPU).Seconds())
	r.rep.Baseline.Connections = len(shape)
	if n := s.errs.Load(); n > 0 {
		le, _ := s.lastErr.Load().(string)
		return fmt.Errorf("%d errors, the last: %s", n, le)
	}
	return nil
}

// pollUntil polls cond every 10 ms until it holds or d passes.
func pollUntil(ctx context.Context, d time.Duration, cond func() bool) error {
	deadline := time.Now().Add(d)
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s", d)
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (p *peer) isAssigned(chat string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	sd := p.chats[chat]
	return sd != nil && sd.assigned
}

func (p *peer) activeCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.activeLocked()
}

// sample records the rates every 250 ms and prints a progress line every
// second; the returned function stops it.
func (r *runner) sample() func() {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		var lastD, lastA uint64
		last := time.Now()
		for i := 1; ; i++ {
			select {
			case <-done:
				return
			case now := <-t.C:
				s := r.live.Load()
				d, a := s.delivered.Load(), s.assigned.Load()
				if d < lastD || a < lastA { // the echo phases have their own counters
					lastD, lastA = 0, 0
				}
				el := now.Sub(last).Seconds()
				phase, _ := r.phase.Load().(string)
				smp := Sample{T: round3(now.Sub(r.began).Seconds()), Phase: phase,
					MessagesPerS: round1(float64(d-lastD) / el), AssignmentsPerS: round1(float64(a-lastA) / el)}
				r.mu.Lock()
				r.series = append(r.series, smp)
				r.mu.Unlock()
				lastD, lastA, last = d, a, now
				if i%4 == 0 {
					r.progress(smp)
				}
			}
		}
	}()
	return func() { close(done); <-stopped }
}

func (r *runner) progress(smp Sample) {
	var cpu string
	if pid := r.brokerPID.Load(); pid != 0 {
		if u, err := procUsage(int(pid)); err == nil {
			cpu = fmt.Sprintf("  broker cpu %.1fs rss %.0f MB", u.CPU.Seconds(), float64(u.RSS)/(1<<20))
		}
	} else if r.cl != nil && r.live.Load() == r.sim {
		u := r.cl.usage()
		cpu = fmt.Sprintf("  nodes cpu %.1fs rss %.0f MB", u.CPU.Seconds(), float64(u.RSS)/(1<<20))
	}
	fmt.Fprintf(r.cfg.Progress, "%7.1fs  %-12s %9.0f msg/s %7.0f assign/s  errors %d%s\n",
		smp.T, smp.Phase, smp.MessagesPerS, smp.AssignmentsPerS, r.live.Load().errs.Load(), cpu)
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
