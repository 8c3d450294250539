package main

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

// What the terminal client prints comes partly from visitors, so it is
// made harmless first: a visitor must not be able to run escape sequences
// on an agent's terminal, nor forge a line that looks like the broker's
// (a whisper, a colleague's message).

// visitorMark starts every visitor's message line (after the bracket
// that numbers it). Staff lines never carry it, and a visitor's text
// cannot start a line of its own (clean), so a line without it did not
// come from a visitor.
const visitorMark = "(visitor) "

// continuation starts every line of a message after its first.
const continuation = "\n      | "

// clean makes a string from the broker safe to print: control characters
// (escape sequences, carriage returns, backspaces) and bidirectional
// overrides are dropped, a tab becomes a space, and every line after the
// first starts with continuation, so that no part of a name or a message
// can pass for a line the client printed. printf applies it to every
// string it prints, once.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r == '\t':
			return ' '
		case unicode.IsControl(r) || actors.IsBidiControl(r):
			return -1
		}
		return r
	}, s)
	return strings.ReplaceAll(s, "\n", continuation)
}

// labelOf names a chat in the agent's lines: the first word of the
// visitor's name, letters and digits only (so no name can close the
// bracket it is printed in, or pass for a staff line), and the id's last
// 5 characters; "Ann/3f9c2". s.mu is held.
func (s *chatSession) labelOf(id string) string {
	name := ""
	if ch := s.chats[id]; ch != nil {
		first, _, _ := strings.Cut(strings.TrimSpace(ch.visitor), " ")
		for _, r := range first {
			if len([]rune(name)) < 12 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
				name += string(r)
			}
		}
	}
	if name == "" {
		name = "visitor"
	}
	return name + "/" + shortID(id)
}

// tag starts a line about chat id: "[Ann/3f9c2 7] " for an agent, who may
// have several chats, "[7] " for a visitor.
func (s *chatSession) tag(id string, seq uint64) string {
	if !s.agent {
		return fmt.Sprintf("[%d] ", seq)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("[%s %d] ", s.labelOf(id), seq)
}

// handle takes in one envelope from the broker.
func (s *chatSession) handle(ctx context.Context, env *messages.Envelope) {
	switch b := env.GetBody().(type) {
	case *messages.Envelope_Ack:
		s.settled(env.GetRef(), true)
	case *messages.Envelope_Error:
		s.refused(ctx, env.GetRef(), b.Error)
	case *messages.Envelope_ChatRefused:
		s.printf("! refused (%s): %s\n", b.ChatRefused.GetReason(), b.ChatRefused.GetMessage())
	case *messages.Envelope_QueueUpdate:
		s.printf("... you are number %d in the queue; %s\n", b.QueueUpdate.GetPosition(), waitText(b.QueueUpdate))
	case *messages.Envelope_Offer:
		s.offered(ctx, b.Offer)
	case *messages.Envelope_OfferWithdrawn:
		s.printf("* offer for %s withdrawn: %s\n", b.OfferWithdrawn.GetChatId(), b.OfferWithdrawn.GetReason())
	case *messages.Envelope_Chat:
		s.summary(b.Chat)
	case *messages.Envelope_Event:
		if s.fresh(b.Event) {
			s.printEvent(b.Event)
		}
	case *messages.Envelope_Invitation:
		inv := b.Invitation
		s.printf("* %s invites you to chat %s (%s, %s): /join %s\n", inv.GetBy().GetDisplayName(), inv.GetChatId(), inv.GetVisitorName(), inv.GetDepartment(), inv.GetChatId())
	case *messages.Envelope_QueueState:
		s.printf("* the %s queue is now %s (by %s)\n", b.QueueState.GetDepartment(), map[bool]string{true: "online", false: "offline"}[b.QueueState.GetOnline()], b.QueueState.GetBy())
	case *messages.Envelope_AgentState:
		if r := b.AgentState.GetReason(); r != "" {
			s.printf("* %s\n", r)
		}
	case *messages.Envelope_TransferTargets:
		for _, d := range b.TransferTargets.GetDepartments() {
			s.printDepartment(d)
		}
	case *messages.Envelope_DepartmentView:
		s.printDepartment(b.DepartmentView)
	case *messages.Envelope_TypingNotice:
		if b.TypingNotice.GetTyping() {
			s.printf("  (%s is typing%s)\n", b.TypingNotice.GetFrom().GetDisplayName(), s.where(b.TypingNotice.GetChatId()))
		}
	}
}

// where names a chat for an agent (" in Ann/3f9c2"); a visitor has one.
func (s *chatSession) where(id string) string {
	if !s.agent {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return " in " + s.labelOf(id)
}

// refused takes in an error. One that answers a line keeps the line for
// another try when it is temporary (storage busy, rate limited), else
// says the line was not sent and why.
func (s *chatSession) refused(ctx context.Context, ref uint64, e *messages.Error) {
	m := s.settled(ref, !e.GetTemporary())
	switch {
	case m == nil:
		s.printf("! %s: %s\n", e.GetCode(), e.GetMessage())
	case e.GetTemporary():
		s.printf("! a line was not stored yet (%s: %s); trying again in a second\n", e.GetCode(), e.GetMessage())
		time.AfterFunc(time.Second, func() { s.transmit(ctx, m) })
	default:
		s.printf("! not sent to chat %s: %q: %s: %s\n", m.chat, m.text, e.GetCode(), e.GetMessage())
	}
}

// fresh reports whether ev is later than the chat's cursor, and moves the
// cursor: a replay after a reconnect shows nothing twice.
func (s *chatSession) fresh(ev *messages.ChatEvent) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ev.GetSeq() <= s.cursors[ev.GetChatId()] {
		return false
	}
	s.cursors[ev.GetChatId()] = ev.GetSeq()
	return true
}

// waitText says what a waiting visitor may expect.
func waitText(q *messages.QueueUpdate) string {
	ms := q.GetEstimatedWaitMs()
	switch {
	case q.GetNoEstimate():
		return "no agent is available right now, so there is no estimated wait yet"
	case ms <= 0:
		return "an agent should answer any moment"
	case ms < 60_000:
		return "estimated wait: under a minute"
	}
	return fmt.Sprintf("estimated wait: about %d min", (ms+30_000)/60_000)
}

func (s *chatSession) printEvent(ev *messages.ChatEvent) {
	tag := s.tag(ev.GetChatId(), ev.GetSeq())
	switch k := ev.GetKind().(type) {
	case *messages.ChatEvent_Created:
		s.printf("%schat %s started in %s\n", tag, ev.GetChatId(), k.Created.GetDepartment())
	case *messages.ChatEvent_Message:
		who, whisper := "", ""
		if k.Message.GetFrom().GetKind() == messages.ParticipantKind_PARTICIPANT_KIND_VISITOR {
			who = visitorMark
		}
		if ev.GetInternal() {
			whisper = " (whisper)"
		}
		s.printf("%s%s%s%s: %s\n", tag, who, k.Message.GetFrom().GetDisplayName(), whisper, k.Message.GetText())
	case *messages.ChatEvent_Assigned:
		s.printAssigned(tag, k.Assigned)
	case *messages.ChatEvent_Transferred:
		to := k.Transferred.GetToAgentName()
		if to == "" {
			to = k.Transferred.GetToDepartment()
		}
		s.printf("%stransferred to %s\n", tag, to)
	case *messages.ChatEvent_Member:
		m := k.Member
		how := strings.ToLower(strings.TrimPrefix(m.GetAction().String(), "MEMBER_ACTION_"))
		if m.GetInvisible() {
			how += " (invisibly)"
		}
		s.printf("%s%s %s\n", tag, m.GetWho().GetDisplayName(), how)
	case *messages.ChatEvent_Requeued:
		s.printf("%sback in the queue: %s\n", tag, k.Requeued.GetReason())
	case *messages.ChatEvent_Closed:
		s.printf("%schat closed by %s\n", tag, k.Closed.GetBy().GetDisplayName())
	}
}

// printAssigned says who has the chat now; a take-over says so plainly,
// and the agent it was taken from is told it is no longer theirs.
func (s *chatSession) printAssigned(tag string, a *messages.ChatAssigned) {
	switch {
	case a.GetHow() != messages.AssignHow_ASSIGN_HOW_TAKEN_OVER:
		s.printf("%s%s joined the chat\n", tag, a.GetAgentName())
	case s.agent && a.GetPreviousAgentId() == s.agentID():
		s.printf("%s%s TOOK OVER this chat from you: it is no longer yours, and your lines no longer go to it\n", tag, a.GetAgentName())
	default:
		s.printf("%s%s took over the chat\n", tag, a.GetAgentName())
	}
}

func (s *chatSession) agentID() string { s.mu.Lock(); defer s.mu.Unlock(); return s.me }

// printDepartment prints a department's view: its line, chats and agents.
func (s *chatSession) printDepartment(d *messages.DepartmentView) {
	s.printf("# %s (%s): %d waiting\n", d.GetName(), map[bool]string{true: "online", false: "offline"}[d.GetOnline()], d.GetWaitingCount())
	for _, c := range d.GetWaiting() {
		s.printf("#   waiting %s %s for %ds\n", c.GetChatId(), c.GetVisitorName(), (d.GetAtMs()-c.GetCreatedAtMs())/1000)
	}
	for _, c := range d.GetActive() {
		s.printf("#   chat %s %s with %s\n", c.GetChatId(), c.GetVisitorName(), c.GetAgentName())
	}
	for _, a := range d.GetAgents() {
		s.printf("#   agent %s %s %d/%d\n", a.GetAgentId(), strings.ToLower(strings.TrimPrefix(a.GetStatus().String(), "AGENT_STATUS_")), a.GetLoad(), a.GetMaxChats())
	}
}
