package actors

import (
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// The statistics (issue 16): the facts no chat log holds are stored as
// statistics events for the projection the store keeps
// (persistence/stats_*.go); the chat logs' events it folds itself. These
// writes acknowledge nothing: they ride the writer's next batch.

// statsRefused counts a refused request of department dept ("" when it
// does not exist: a visitor may ask for any name).
func (b *Broker) statsRefused(dept string, reason messages.RefusalReason) {
	b.store.AppendStats(&messages.StatsEvent{AtMs: b.clock.Now().UnixMilli(), Department: dept,
		Kind: &messages.StatsEvent_Refused{Refused: reason}}, nil)
}

// statsOfferEnded counts an offer to agent that they declined (or let
// expire: declined false).
func (b *Broker) statsOfferEnded(dept, agent string, declined bool) {
	b.store.AppendStats(&messages.StatsEvent{AtMs: b.clock.Now().UnixMilli(), Department: dept, AgentId: agent,
		Kind: &messages.StatsEvent_OfferDeclined{OfferDeclined: declined}}, nil)
}

// statsActivity stores the agent's status and load when they changed: the
// status while connected (offline otherwise), the chats at once, the
// limit, and the departments the agent takes chats in (deps).
func (a *agent) statsActivity(deps []string) {
	st := a.status
	if a.conns.len() == 0 {
		st = messages.AgentStatus_AGENT_STATUS_OFFLINE
	}
	act := &messages.AgentActivity{Status: st, Chats: uint32(len(a.active)), Limit: a.max(), Departments: slices.Clone(deps)}
	slices.Sort(act.Departments)
	if a.statsLast == nil && len(deps) == 0 || proto.Equal(act, a.statsLast) {
		return // nothing new, or staff who never took chats
	}
	a.statsLast = act
	a.b.store.AppendStats(&messages.StatsEvent{AtMs: a.b.clock.Now().UnixMilli(), AgentId: a.id,
		Kind: &messages.StatsEvent_Agent{Agent: act}}, nil)
}

// answerTargetS is the queue's department's answer target now, in
// seconds: the chat's Assigned event carries it for the statistics.
func (q *queue) answerTargetS() uint32 {
	if t := q.dept.GetAnswerTargetS(); t > 0 {
		return t
	}
	return messages.DefaultAnswerTargetS
}

// StatsScope is whose figures staff may read: everything (reports.view,
// admin), the departments they supervise or manage and those
// departments' agents, and always their own.
type StatsScope struct {
	Everything  bool
	ID          string
	Departments []string
}

// StatsScopeOf is a's StatsScope.
func (b *Broker) StatsScopeOf(a *messages.Agent, p Perms) (StatsScope, error) {
	s := StatsScope{ID: a.GetId(), Everything: p.Has(PermReports) || p.Has(PermAdmin)}
	if s.Everything {
		return s, nil
	}
	deps, err := b.overseen(a.GetId(), p)
	s.Departments = deps
	return s, err
}

// MayDepartment says whether the scope reads department dept's figures.
func (s StatsScope) MayDepartment(dept string) bool {
	return s.Everything || slices.Contains(s.Departments, dept)
}

// MayAgent says whether the scope reads the personal figures of agent
// (whose record is rec: nil when there is none).
func (s StatsScope) MayAgent(rec *messages.Agent) bool {
	if s.Everything || rec.GetId() == s.ID {
		return true
	}
	for _, d := range rec.GetDepartments() {
		if slices.Contains(s.Departments, d) {
			return true
		}
	}
	return false
}

// Stats reads the figures q asks for from the projection.
func (b *Broker) Stats(q *messages.StatsQuery) (*messages.StatsReport, error) {
	return b.store.StatsReport(q)
}
