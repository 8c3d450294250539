package actors

// The agent's status: set by the agent, by a manager, or by their shifts
// (a shift's start brings them online; its end drains them, then takes
// them offline).

import (
	"fmt"
	"strings"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// statusMessage handles the shift timer and managers' status changes; it
// reports whether m was one of them.
func (a *agent) statusMessage(ctx actor.Context, m any) bool {
	switch m := m.(type) {
	case *messages.ShiftTick:
		if a.shift.fired(m.GetToken()) {
			a.shiftChanged(ctx)
		}
	case *messages.ManagedStatus:
		a.managedStatus(ctx, m)
	default:
		return false
	}
	return true
}

// statusCommand handles the agent setting their own status; it reports
// whether m was that.
func (a *agent) statusCommand(ctx actor.Context, m *messages.SessionCommand) bool {
	body, ok := m.GetBody().(*messages.SessionCommand_SetStatus)
	if !ok {
		return false
	}
	st := body.SetStatus.GetStatus()
	if _, ok := messages.AgentStatus_name[int32(st)]; !ok {
		sendErr(ctx, m.GetConn(), m.GetRef(), errorf(codeInvalid, "unknown status %d", st))
		return true
	}
	if st != statusAvailable {
		a.declineUnaccepted(ctx)
	}
	undo := a.statusUndo(m.GetConn(), m.GetRef())
	a.setStatus(ctx, st, "")
	a.acks[a.token] = undo
	return true
}

// managedStatus: a manager set the agent's status (the manager's agent
// actor checked they may).
func (a *agent) managedStatus(ctx actor.Context, m *messages.ManagedStatus) {
	if _, ok := messages.AgentStatus_name[int32(m.GetStatus())]; !ok || a.rec == nil {
		sendErr(ctx, m.GetConn(), m.GetRef(), errorf(codeInvalid, "unknown status %d", m.GetStatus()))
		return
	}
	if m.GetStatus() != statusAvailable {
		a.declineUnaccepted(ctx)
	}
	undo := a.statusUndo(m.GetConn(), m.GetRef())
	a.setStatus(ctx, m.GetStatus(), fmt.Sprintf("%s (manager) set your status to %s", m.GetBy(), statusWord(m.GetStatus())))
	a.acks[a.token] = undo
}

// planShift arms the timer for the agent's next shift change (a shift
// starting or ending), if they have a schedule.
func (a *agent) planShift() {
	a.shift.cancel()
	sch := a.rec.GetSchedule()
	if len(sch.GetShifts()) == 0 {
		return
	}
	now := a.b.clock.Now()
	at := nextShiftChange(sch, now)
	if at.IsZero() {
		return
	}
	a.shift.start(a.b, a.self, at.Sub(now), shiftTick)
}

// shiftChanged brings the agent online when a shift starts, and drains
// them when it ends: no new offers, their chats go on, then offline.
func (a *agent) shiftChanged(ctx actor.Context) {
	sch := a.rec.GetSchedule()
	inShift, _ := BusinessHours(sch.GetShifts(), sch.GetTimeZone(), a.b.clock.Now())
	switch {
	case inShift && a.status != statusAvailable:
		a.setStatus(ctx, statusAvailable, "your shift started")
	case !inShift && a.status != messages.AgentStatus_AGENT_STATUS_OFFLINE && a.status != messages.AgentStatus_AGENT_STATUS_DRAINING:
		if len(a.active) > 0 {
			a.declineUnaccepted(ctx)
			a.setStatus(ctx, messages.AgentStatus_AGENT_STATUS_DRAINING, "your shift ended: no new chats; finish the ones you have")
		} else {
			a.declineUnaccepted(ctx)
			a.setStatus(ctx, messages.AgentStatus_AGENT_STATUS_OFFLINE, "your shift ended")
		}
	}
	a.planShift()
}

// statusAck is a status change waiting to be stored: the command's answer,
// and the status before it, put back if the write fails (an error means
// the command had no effect).
type statusAck struct {
	pendingAck
	was       messages.AgentStatus
	wasReason string
}

func (a *agent) statusUndo(conn *actor.PID, ref uint64) statusAck {
	return statusAck{pendingAck: pendingAck{conn: conn, ref: ref, ack: &messages.Ack{}}, was: a.status, wasReason: a.statusReason}
}

// statusNotStored puts the status back after its write failed, unless a
// later write (which carries the current status) is under way.
func (a *agent) statusNotStored(ctx actor.Context, token uint64, u statusAck) {
	if token != a.token || a.status == u.was {
		return
	}
	a.status, a.statusReason = u.was, u.wasReason
	if a.status != statusAvailable {
		a.declineUnaccepted(ctx)
	}
	a.changed(ctx)
}

// setStatus changes the status on the broker's own account (shifts,
// managers), stores it and tells the agent why.
func (a *agent) setStatus(ctx actor.Context, st messages.AgentStatus, why string) {
	a.status, a.statusReason = st, why
	a.saveSnapshot()
	a.changed(ctx)
}

func statusWord(st messages.AgentStatus) string {
	return strings.ToLower(strings.TrimPrefix(st.String(), "AGENT_STATUS_"))
}
