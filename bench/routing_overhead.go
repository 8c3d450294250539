package bench

import (
	"context"
	"fmt"
)

// routingOverhead measures what recording routing decisions costs the
// assignment rate, in the same run: assign-max ran with records on (on1);
// the broker restarts on the same data with -routing-records=false for
// assign-max-no-records, then with records on again for
// assign-max-records (on2). The cost is 1 - mean(on1, on2) / off: the
// phases on both sides of the one without records even out a drift of
// the machine during the run. It returns the rate the open loop's offer
// is half of (on1, as without this measure).
func (r *runner) routingOverhead(ctx context.Context, on1 float64) (float64, error) {
	if r.cfg.Profile.RoutingOverhead && r.cl != nil {
		r.note("routing records: their cost is not measured in a cluster run (it restarts a single broker)")
	}
	if !r.cfg.Profile.RoutingOverhead || r.broker == nil {
		return on1, nil
	}
	if err := r.restart(ctx, "-routing-records=false"); err != nil {
		return 0, err
	}
	off, err := r.assignMax(ctx, "assign-max-no-records")
	if err != nil {
		return 0, err
	}
	if err := r.restart(ctx); err != nil {
		return 0, err
	}
	on2, err := r.assignMax(ctx, "assign-max-records")
	if err != nil {
		return 0, err
	}
	rt := &r.rep.Routing
	rt.AssignmentsPerSNoRecords = round1(off)
	if off > 0 {
		rt.RecordsCost = round3(1 - (on1+on2)/2/off)
	}
	r.note("routing records: %.0f and %.0f assignments/s with, %.0f without: they cost %.1f%% of the rate", on1, on2, off, 100*rt.RecordsCost)
	return on1, nil
}

// restart stops the broker the harness started and starts it again on
// the same data folder with extra flags; the agents sign in again with
// their session tokens and the idle visitors are let go (new ones connect
// as needed).
func (r *runner) restart(ctx context.Context, args ...string) error {
	if err := r.stopBroker(); err != nil {
		return fmt.Errorf("stopping the broker: %w", err)
	}
	r.extraArgs = args
	if err := r.spawnBroker(ctx); err != nil {
		return fmt.Errorf("restarting the broker %v: %w", args, err)
	}
	r.sim.wsBase = "ws://" + r.addr
	r.mu.Lock()
	for _, v := range r.pool {
		v.c.close()
	}
	r.pool = nil
	r.mu.Unlock()
	return parallel(ctx, len(r.agents), 16, func(i int) error {
		if _, err := r.agents[i].reconnect(ctx); err != nil {
			return fmt.Errorf("agent %s reconnecting: %w", r.agents[i].id, err)
		}
		return nil
	})
}
