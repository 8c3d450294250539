package actors

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"strings"

	"github.com/switchboard-chat/switchboard/messages"
)

// VisitorView is what a visitor may see of what the broker sends: every
// frame bound for a visitor's socket goes through its Envelope, the one
// place that decides it. A visitor sees
//
//   - no internal event (whispers, invisible joins, invitations), and, in
//     the events they see, visitor_seq as seq: their numbering has no gaps
//     where internal events are;
//   - staff as display names and an opaque reference per chat (ref) in
//     place of their ids, in events, summaries and typing notices;
//   - no watchers or invitations in summaries, no queue ticket, no staff
//     client message ids.
//
// Staff refs are stable within a chat (a visitor can tell the same agent
// again, say after a rename) and differ between chats, and without the
// key they do not reveal the id.
type VisitorView struct {
	key  []byte
	refs map[refKey]string // refs already computed (WithRefCache); nil: none kept
}

type refKey struct{ chat, id string }

// maxCachedRefs bounds a view's cache; a full one starts again.
const maxCachedRefs = 64

// WithRefCache returns the view with a cache of the refs it computes, for
// one goroutine (a socket's writer): every event a visitor gets passes
// through the view, and an HMAC with its allocations per event was about
// 5% of what the broker allocated per chat message.
func (v VisitorView) WithRefCache() VisitorView {
	return VisitorView{key: v.key, refs: map[refKey]string{}}
}

// NewVisitorView derives the reference key from secret (the broker's
// token secret).
func NewVisitorView(secret []byte) VisitorView {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("switchboard/visitor-participant-ref/v1"))
	return VisitorView{key: mac.Sum(nil)}
}

var refEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// ref is a staff member's reference in one chat: "p-" and 16 characters
// of HMAC-SHA256(chat, id).
func (v VisitorView) ref(chatID, id string) string {
	if id == "" {
		return ""
	}
	if v.refs == nil {
		return v.computeRef(chatID, id)
	}
	k := refKey{chatID, id}
	if r, ok := v.refs[k]; ok {
		return r
	}
	r := v.computeRef(chatID, id)
	if len(v.refs) >= maxCachedRefs {
		clear(v.refs)
	}
	v.refs[k] = r
	return r
}

func (v VisitorView) computeRef(chatID, id string) string {
	mac := hmac.New(sha256.New, v.key)
	mac.Write([]byte(chatID))
	mac.Write([]byte{0})
	mac.Write([]byte(id))
	return "p-" + strings.ToLower(refEncoding.EncodeToString(mac.Sum(nil))[:16])
}

// participant shows a participant to the chat's visitor: the visitor
// themself and the system as they are, staff by ref.
func (v VisitorView) participant(chatID string, p *messages.Participant) *messages.Participant {
	if p == nil || p.GetKind() != kindAgent {
		return p
	}
	return &messages.Participant{Kind: p.GetKind(), Id: v.ref(chatID, p.GetId()), DisplayName: p.GetDisplayName()}
}

// Envelope returns env as the visitor may see it, or nil when the visitor
// must not get it at all. env is never changed (envelopes are shared
// between connections); what differs is copied.
func (v VisitorView) Envelope(env *messages.Envelope) *messages.Envelope {
	out := &messages.Envelope{Ref: env.GetRef()}
	switch b := env.GetBody().(type) {
	case *messages.Envelope_Error, *messages.Envelope_ChatRefused, *messages.Envelope_QueueUpdate, *messages.Envelope_Pong:
		return env // no staff in them
	case *messages.Envelope_PastChats:
		return env // made for the visitor from what they saw (Broker.PastChats)
	case *messages.Envelope_Ack:
		a := b.Ack
		out.Body = &messages.Envelope_Ack{Ack: &messages.Ack{ChatId: a.GetChatId(), Seq: a.GetVisitorSeq(), ClientMsgId: a.GetClientMsgId()}}
	case *messages.Envelope_Event:
		ev := v.Event(b.Event)
		if ev == nil {
			return nil
		}
		out.Body = &messages.Envelope_Event{Event: ev}
	case *messages.Envelope_Chat:
		out.Body = &messages.Envelope_Chat{Chat: v.summary(b.Chat)}
	case *messages.Envelope_Welcome:
		w := b.Welcome
		nw := &messages.Welcome{VisitorId: w.GetVisitorId(), ResumeToken: w.GetResumeToken()}
		for _, s := range w.GetChats() {
			nw.Chats = append(nw.Chats, v.summary(s))
		}
		out.Body = &messages.Envelope_Welcome{Welcome: nw}
	case *messages.Envelope_TypingNotice:
		n := b.TypingNotice
		out.Body = &messages.Envelope_TypingNotice{TypingNotice: &messages.TypingNotice{
			ChatId: n.GetChatId(), From: v.participant(n.GetChatId(), n.GetFrom()), Typing: n.GetTyping()}}
	default:
		return nil // nothing else is for visitors
	}
	return out
}

func (v VisitorView) summary(s *messages.ChatSummary) *messages.ChatSummary {
	id := s.GetChatId()
	ns := &messages.ChatSummary{
		ChatId: id, Department: s.GetDepartment(), Language: s.GetLanguage(), State: s.GetState(),
		VisitorId: s.GetVisitorId(), VisitorName: s.GetVisitorName(), AgentId: v.ref(id, s.GetAgentId()), AgentName: s.GetAgentName(),
		LastSeq: s.GetVisitorLastSeq(), CreatedAtMs: s.GetCreatedAtMs(), Position: s.GetPosition(), WorkStatus: s.GetWorkStatus(),
		AssignedAtMs: s.GetAssignedAtMs(), AgentAvatarUrl: s.GetAgentAvatarUrl(),
	}
	for _, g := range s.GetGuests() {
		ns.Guests = append(ns.Guests, v.participant(id, g))
	}
	return ns
}

// Event returns ev as the visitor sees it, numbered by visitor_seq, or nil
// for an event the visitor does not see.
func (v VisitorView) Event(ev *messages.ChatEvent) *messages.ChatEvent {
	if ev.GetInternal() || ev.GetVisitorSeq() == 0 {
		return nil
	}
	id := ev.GetChatId()
	p := func(x *messages.Participant) *messages.Participant { return v.participant(id, x) }
	out := &messages.ChatEvent{ChatId: id, Seq: ev.GetVisitorSeq(), AtMs: ev.GetAtMs()}
	switch k := ev.GetKind().(type) {
	case *messages.ChatEvent_Created:
		c := k.Created
		out.Kind = &messages.ChatEvent_Created{Created: &messages.ChatCreated{VisitorId: c.GetVisitorId(), VisitorName: c.GetVisitorName(),
			Email: c.GetEmail(), Department: c.GetDepartment(), Language: c.GetLanguage()}}
	case *messages.ChatEvent_Message:
		m := k.Message
		nm := &messages.ChatMessage{From: p(m.GetFrom()), Text: m.GetText()}
		if m.GetFrom().GetKind() == kindVisitor {
			nm.ClientMsgId = m.GetClientMsgId()
		}
		out.Kind = &messages.ChatEvent_Message{Message: nm}
	case *messages.ChatEvent_Assigned:
		a := k.Assigned
		out.Kind = &messages.ChatEvent_Assigned{Assigned: &messages.ChatAssigned{AgentId: v.ref(id, a.GetAgentId()), AgentName: a.GetAgentName(),
			How: a.GetHow(), PreviousAgentId: v.ref(id, a.GetPreviousAgentId()), AgentAvatarUrl: a.GetAgentAvatarUrl()}}
	case *messages.ChatEvent_Closed:
		out.Kind = &messages.ChatEvent_Closed{Closed: &messages.ChatClosed{By: p(k.Closed.GetBy()), Reason: k.Closed.GetReason()}}
	case *messages.ChatEvent_Requeued:
		out.Kind = &messages.ChatEvent_Requeued{Requeued: &messages.ChatRequeued{AgentId: v.ref(id, k.Requeued.GetAgentId()), Reason: k.Requeued.GetReason()}}
	case *messages.ChatEvent_StatusChanged:
		out.Kind = &messages.ChatEvent_StatusChanged{StatusChanged: &messages.ChatStatusChanged{Status: k.StatusChanged.GetStatus(), By: p(k.StatusChanged.GetBy())}}
	case *messages.ChatEvent_Renamed:
		out.Kind = &messages.ChatEvent_Renamed{Renamed: &messages.ChatRenamed{AgentId: v.ref(id, k.Renamed.GetAgentId()), DisplayName: k.Renamed.GetDisplayName()}}
	case *messages.ChatEvent_Transferred:
		t := k.Transferred
		out.Kind = &messages.ChatEvent_Transferred{Transferred: &messages.ChatTransferred{By: p(t.GetBy()), ToAgentId: v.ref(id, t.GetToAgentId()),
			ToAgentName: t.GetToAgentName(), ToDepartment: t.GetToDepartment()}}
	case *messages.ChatEvent_Member:
		m := k.Member
		out.Kind = &messages.ChatEvent_Member{Member: &messages.ChatMemberChanged{Who: p(m.GetWho()), Action: m.GetAction(), By: p(m.GetBy())}}
	case *messages.ChatEvent_Attachment:
		a := k.Attachment
		out.Kind = &messages.ChatEvent_Attachment{Attachment: &messages.ChatAttachment{From: p(a.GetFrom()), FileId: a.GetFileId(), Name: a.GetName(),
			ContentType: a.GetContentType(), Size: a.GetSize()}}
	case *messages.ChatEvent_Reopened:
		r := k.Reopened
		out.Kind = &messages.ChatEvent_Reopened{Reopened: &messages.ChatReopened{By: p(r.GetBy()), PreferAgent: v.ref(id, r.GetPreferAgent())}}
	case *messages.ChatEvent_Emailed:
		// Only the transcript the visitor asked for is visible to them.
		e := k.Emailed
		out.Kind = &messages.ChatEvent_Emailed{Emailed: &messages.ChatEmailed{By: p(e.GetBy()), To: e.GetTo(), Subject: e.GetSubject(),
			Purpose: e.GetPurpose()}}
	case *messages.ChatEvent_Rated:
		r := k.Rated
		out.Kind = &messages.ChatEvent_Rated{Rated: &messages.ChatRated{Score: r.GetScore(), Comment: r.GetComment(),
			AgentId: v.ref(id, r.GetAgentId()), Department: r.GetDepartment()}}
	default:
		// Tags are staff-only (always internal); a kind not shown here
		// is not for visitors at all.
		return nil
	}
	return out
}
