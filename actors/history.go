package actors

import (
	"fmt"
	"slices"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

// Chat history: the index the store keeps from the chat logs
// (persistence/history_*.go), searched by staff (GET /api/chats) and
// listed by a visitor (ListPastChats), and its retention.

// maxRetentionDays bounds Department.retention_days (a hundred years).
const maxRetentionDays = 36500

// maxPastChats is how many past chats a visitor lists at most.
const maxPastChats = 50

// SearchChats returns a page of the chat history, newest first: the chats
// q selects that allow accepts (nil: every one). For the gateway, which
// decides what the caller may see.
func (b *Broker) SearchChats(q *messages.ChatHistoryQuery, allow func(*messages.ChatHistoryEntry) bool) (*messages.ChatHistoryPage, error) {
	return b.store.SearchChats(q, allow)
}

// ChatReader is what one staff member may read of the chats (their
// transcripts, history entries, files and visitors), besides staff with
// reports.view or admin, who read every chat: the chats of the
// departments they are in (with chats.view), supervise (with supervise)
// or manage (with queues.manage), by the department a chat is in now (the
// last of its departments), and, with chats.view, the chats they took
// part in. The same departments a chat's commands let them oversee
// (chat.mayView, agent.mayOversee).
type ChatReader struct {
	ID          string
	Departments []string
	Own         bool
}

// ReaderOf is a's ChatReader.
func (b *Broker) ReaderOf(a *messages.Agent, p Perms) (ChatReader, error) {
	r := ChatReader{ID: a.GetId(), Own: p.Has(PermViewChats)}
	if r.Own {
		r.Departments = slices.Clone(a.GetDepartments())
	}
	deps, err := b.overseen(r.ID, p)
	r.Departments = append(r.Departments, deps...)
	return r, err
}

// overseen lists the departments agent id supervises (with the
// supervise permission) or manages (with queues.manage).
func (b *Broker) overseen(id string, p Perms) ([]string, error) {
	if !p.Has(PermSupervise) && !p.Has(PermManageQueues) {
		return nil, nil
	}
	deps, err := b.store.Departments()
	var out []string
	for _, d := range deps {
		if p.Has(PermSupervise) && b.Supervises(d, id) || p.Has(PermManageQueues) && slices.Contains(d.GetManagers(), id) {
			out = append(out, d.GetId())
		}
	}
	return out, err
}

// May says whether r reads a chat of visitorID that has been in
// departments (the last is where it is now) and had agents. Never a
// colleague's own question (AskedBy).
func (r ChatReader) May(visitorID string, departments, agents []string) bool {
	if AskedBy(visitorID, r.ID) {
		return false
	}
	if len(departments) > 0 && slices.Contains(r.Departments, departments[len(departments)-1]) {
		return true
	}
	return r.Own && slices.Contains(agents, r.ID)
}

// PastChats lists a visitor's chats, newest first, from what the visitor
// saw only (no tags, whispers, invisible staff).
func (b *Broker) PastChats(visitorID string, limit int) (*messages.PastChats, error) {
	if limit <= 0 || limit > maxPastChats {
		limit = maxPastChats
	}
	page, err := b.store.SearchChats(&messages.ChatHistoryQuery{All: []string{messages.HistoryVisitor(visitorID)}, Limit: uint32(limit)}, nil)
	if err != nil {
		return nil, err
	}
	out := &messages.PastChats{}
	for _, e := range page.GetChats() {
		pc := &messages.PastChat{ChatId: e.GetChatId(), State: e.GetState(), StartedAtMs: e.GetStartedAtMs(),
			EndedAtMs: e.GetEndedAtMs(), Preview: e.GetPreview()}
		if d := e.GetDepartments(); len(d) > 0 {
			pc.Department = d[len(d)-1]
		}
		for _, id := range e.GetVisibleAgents() {
			pc.AgentNames = append(pc.AgentNames, e.GetAgentNames()[id])
		}
		out.Chats = append(out.Chats, pc)
	}
	return out, nil
}

// retentionActor is who the audit log says ran the retention pass.
const retentionActor = "@retention"

// ApplyRetention deletes, for each department with retention_days, the
// closed chats that are in it (the last department they were in) and
// ended more than that many days before now, and audits one entry per
// department with the count. It waits for the store: call it from a
// background task, never from an actor. It returns how many it deleted.
func (b *Broker) ApplyRetention() (int, error) {
	deps, err := b.store.Departments()
	if err != nil {
		return 0, fmt.Errorf("actors: retention: %w", err)
	}
	total := 0
	for _, d := range deps {
		if d.GetRetentionDays() == 0 {
			continue
		}
		cutoff := b.clock.Now().Add(-time.Duration(d.GetRetentionDays()) * 24 * time.Hour).UnixMilli()
		n, err := b.retainDepartment(d.GetId(), cutoff)
		total += n
		if n > 0 || err != nil {
			detail := fmt.Sprintf("department %s: deleted %d closed chats that ended before %s (retention_days %d)",
				d.GetId(), n, time.UnixMilli(cutoff).UTC().Format(time.RFC3339), d.GetRetentionDays())
			if err != nil {
				detail += fmt.Sprintf("; stopped: %v", err)
			}
			b.Audit(&messages.AuditEntry{Kind: "chats.retention", Actor: retentionActor, Subject: d.GetId(), Detail: detail, Ok: err == nil})
		}
		if err != nil {
			return total, fmt.Errorf("actors: retention of %s: %w", d.GetId(), err)
		}
	}
	return total, nil
}

// retainDepartment deletes dep's closed chats that ended before cutoff.
// A chat ends after it starts, so only those started before cutoff are
// looked at.
func (b *Broker) retainDepartment(dep string, cutoff int64) (int, error) {
	q := &messages.ChatHistoryQuery{All: []string{messages.HistoryDepartment(dep), messages.HistoryState(messages.ChatState_CHAT_STATE_CLOSED)}, ToMs: cutoff, Limit: 200}
	expired := func(e *messages.ChatHistoryEntry) bool {
		ds := e.GetDepartments()
		return len(ds) > 0 && ds[len(ds)-1] == dep && e.GetEndedAtMs() != 0 && e.GetEndedAtMs() < cutoff
	}
	n := 0
	for {
		page, err := b.store.SearchChats(q, expired)
		if err != nil {
			return n, err
		}
		for _, e := range page.GetChats() {
			ok, err := b.stillExpired(e.GetChatId(), cutoff)
			if err == nil && ok {
				err = b.store.DeleteChat(e.GetChatId())
			}
			if err != nil {
				return n, err
			}
			if ok {
				n++
			}
		}
		if page.GetNextCursor() == "" {
			return n, nil
		}
		q.Cursor = page.GetNextCursor()
	}
}

// stillExpired reads the chat's own log, not the index (which is kept in
// the background and may lag, after a restart for one): a chat is deleted
// only when it has no open-chat entry and its last close, not followed by
// a reopen, was before cutoff. (A reopen stored between this read and
// the deletion's commit would still be lost: that needs a visitor or an
// agent to reopen a chat closed retention_days ago within the same
// millisecond; deleting through the chat actor would close it.)
func (b *Broker) stillExpired(chatID string, cutoff int64) (bool, error) {
	if oc, err := b.store.OpenChat(chatID); err != nil || oc != nil {
		return false, err
	}
	var closedAt int64
	err := b.store.EachChatEvent(chatID, 0, func(ev *messages.ChatEvent) error {
		switch {
		case ev.GetClosed() != nil:
			closedAt = ev.GetAtMs()
		case ev.GetReopened() != nil:
			closedAt = 0
		}
		return nil
	})
	return err == nil && closedAt != 0 && closedAt < cutoff, err
}
