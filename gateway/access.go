package gateway

import (
	"time"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

// An agent's access rules (when and from where, on their role and on
// their account) apply to a login, to every use of a session token and to
// every open socket: a socket is checked again when its login window ends
// and when an administrator changes the rules, and closed (4005) when no
// longer allowed.

// checkAccess applies the role's and the account's rules (when and from
// where); until is when the current login window ends.
func (s *Server) checkAccess(a *messages.Agent, addr string) (time.Time, *messages.Error) {
	rules, err := s.b.Access(a)
	if err != nil {
		return time.Time{}, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read roles now")
	}
	why, until := actors.AccessDenied(rules, addr, s.b.Now())
	if why != "" {
		return time.Time{}, errf(messages.ErrorCode_ERROR_CODE_FORBIDDEN, "%s", why)
	}
	return until, nil
}

// recheckAccess is the one place that decides whether an agent's open
// socket may stay: under the rules as they are now it stays (watched until
// its login window ends), or it closes with CloseLoginHours and the
// reason. A removed or suspended account is the actors' to close
// (CloseSuspended). A staff member's customer-side socket (internal live
// chats) is checked the same way, and needs livechat.internal still
// (recheckColleague).
func (c *wsConn) recheckAccess() {
	id := c.staffID()
	if id == "" || !c.authed.Load() || c.closing() {
		return
	}
	a, err := c.s.b.Agent(id)
	if err != nil {
		return
	}
	if c.role != roleAgent && !c.recheckColleague(a) {
		return
	}
	if a == nil {
		return
	}
	next, e := c.s.checkAccess(a, c.addr)
	if e != nil {
		if e.GetTemporary() {
			return // the rules cannot be read now; they were fine before
		}
		c.close(CloseLoginHours, e.GetMessage())
		return
	}
	c.watchLoginHours(next)
}

func (c *wsConn) closing() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// watchLoginHours checks the socket again when its login window ends at
// until (zero: no end, and no timer); it replaces the timer set before.
func (c *wsConn) watchLoginHours(until time.Time) {
	var stop func() bool
	if !until.IsZero() && !c.closing() {
		stop = c.s.b.AfterFunc(until.Sub(c.s.b.Now()), c.recheckAccess)
	}
	c.hours.mu.Lock()
	old := c.hours.stop
	c.hours.stop = stop
	c.hours.mu.Unlock()
	if old != nil {
		old()
	}
}

// accessChanged checks the open sockets that an administrative change may
// have shut out: the agent's own after PUT /admin/agents, every agent's
// after a change of roles.
func (s *Server) accessChanged(cmd *messages.AdminCommand) {
	agent := ""
	switch b := cmd.GetBody().(type) {
	case *messages.AdminCommand_PutAgent:
		agent = b.PutAgent.GetId()
	case *messages.AdminCommand_DeleteAgent:
		agent = b.DeleteAgent // the actors close their agent sockets; recheckColleague the others
	case *messages.AdminCommand_PutRole, *messages.AdminCommand_DeleteRole, *messages.AdminCommand_TransferOwner:
	default:
		return
	}
	s.accessGen.Add(1)
	s.mu.Lock()
	var check []*wsConn
	for c := range s.conns {
		if id := c.staffID(); id != "" && (agent == "" || id == agent) {
			check = append(check, c)
		}
	}
	s.mu.Unlock()
	for _, c := range check {
		c.recheckAccess()
	}
}
