package bench

import (
	"context"
	"fmt"
	rnd "math/rand/v2"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

// Crash is what the crash cycles tried and found.
type Crash struct {
	Cycles int `json:"cycles"`
	// AckedBeforeKill: messages acknowledged to their senders, in the
	// streaming chats, when the broker was killed (summed over cycles).
	AckedBeforeKill uint64 `json:"acked_before_kill"`
	// InFlightAtKill: of those, the ones the other side had not received
	// yet; each must arrive after the restart.
	InFlightAtKill uint64 `json:"in_flight_at_kill"`
	// Recovered: acknowledged-before-kill messages found delivered after
	// the restart. Equal to AckedBeforeKill when nothing was lost.
	Recovered uint64 `json:"recovered"`
	// ResentUnacknowledged: messages sent but not acknowledged before the
	// kill, sent again under the same client message id.
	ResentUnacknowledged uint64 `json:"resent_unacknowledged"`
	// RestartS: how long each restart took until the broker listened.
	RestartS []float64 `json:"restart_s"`
}

// crashCycles streams messages in the open chats, kills the broker with
// SIGKILL at a random moment, restarts it on the same data folder,
// reconnects every client with its token and cursors, sends again what
// was not acknowledged, and checks that every message acknowledged before
// the kill reaches the other side, once and in order, and that each
// agent's load and status match their chats.
func (r *runner) crashCycles(ctx context.Context, visitors []*peer, chats []string) error {
	n := r.cfg.Profile.CrashCycles
	if n == 0 || r.broker == nil {
		return nil
	}
	s, p := r.sim, r.cfg.Profile
	conns := append(append([]*peer{}, visitors...), r.agents...)
	cr := &r.rep.Crash
	for cycle := 1; cycle <= n; cycle++ {
		r.phase.Store(fmt.Sprintf("crash-%d", cycle))
		s.mode.Store(modeClosed)
		for _, c := range conns {
			c.start(p.Window)
		}
		sleepCtx(ctx, time.Duration(300+rnd.IntN(1200))*time.Millisecond)

		// The kill, with what the clients know at that moment.
		s.crashing.Store(true)
		type counts struct{ ackedV, ackedA, gotV, gotA uint64 }
		before := map[string]counts{}
		for _, id := range chats {
			st := s.stat(id)
			before[id] = counts{st.ackedV.Load(), st.ackedA.Load(), st.gotV.Load(), st.gotA.Load()}
		}
		r.account()
		r.brokerPID.Store(0)
		r.serverPID.Store(0)
		r.broker.kill()
		for _, c := range conns {
			c.mu.Lock()
			old := c.c
			c.mu.Unlock()
			<-old.done
		}
		s.mode.Store(modeStop)
		var unacked uint64
		for _, c := range conns {
			c.mu.Lock()
			for _, sd := range c.chats {
				if !sd.closed && sd.streaming {
					unacked += sd.next - sd.acked
				}
			}
			c.mu.Unlock()
		}
		cr.ResentUnacknowledged += unacked

		t0 := time.Now()
		if err := r.spawnBroker(ctx); err != nil {
			return fmt.Errorf("restart after SIGKILL: %w", err)
		}
		cr.RestartS = append(cr.RestartS, round3(time.Since(t0).Seconds()))
		s.wsBase = "ws://" + r.addr
		s.crashing.Store(false)
		s.mode.Store(modeClosed)
		if err := parallel(ctx, len(conns), 16, func(i int) error {
			c := conns[i]
			w, err := c.reconnect(ctx)
			if err != nil {
				return fmt.Errorf("%s %s reconnecting: %w", c.kindName(), c.id, err)
			}
			if c.kind == kindAgent {
				if st := w.GetState(); int(st.GetActiveChats()) != c.activeCount() || st.GetStatus() != messages.AgentStatus_AGENT_STATUS_AVAILABLE {
					s.led.stateMismatch.Add(1)
					s.fail("agent %s after restart: %d chats, status %v; the client holds %d", c.id, st.GetActiveChats(), st.GetStatus(), c.activeCount())
				}
			}
			return nil
		}); err != nil {
			return err
		}
		sleepCtx(ctx, 500*time.Millisecond)
		s.mode.Store(modeStop)
		if err := pollUntil(ctx, 30*time.Second, func() bool { return s.acked.Load() == s.sent.Load() && s.lost() == 0 }); err != nil {
			r.note("crash-%d: %d messages unacknowledged, %d acknowledged but not delivered", cycle, s.sent.Load()-s.acked.Load(), s.lost())
		}
		var acked, inflight, recovered uint64
		for id, b := range before {
			st := s.stat(id)
			acked += b.ackedV + b.ackedA
			inflight += b.ackedV - min(b.ackedV, b.gotA) + b.ackedA - min(b.ackedA, b.gotV)
			recovered += min(b.ackedV, st.gotA.Load()) + min(b.ackedA, st.gotV.Load())
		}
		cr.Cycles++
		cr.AckedBeforeKill += acked
		cr.InFlightAtKill += inflight
		cr.Recovered += recovered
		r.note("crash-%d: SIGKILL with %d messages acknowledged (%d not yet delivered, %d unacknowledged); restarted in %.2f s; %d recovered",
			cycle, acked, inflight, unacked, cr.RestartS[len(cr.RestartS)-1], recovered)
	}
	return nil
}
