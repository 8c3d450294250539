package persistence

import (
	"slices"
	"unicode/utf8"

	"github.com/switchboard-chat/switchboard/messages"
)

// The history index keeps, per chat, an entry (ChatHistoryEntry) folded
// from its events, and postings: for each facet the chat has, a key in
// that facet's list at the chat's position (newest first). A facet is a
// filter value: every chat has "all"; "d=<department>" for each
// department it has been in, "a=<agent>" for each agent who took part,
// "v=<visitor>", "g=<tag>" for each tag it has now, "s=<state>",
// "r=<rating>", and "w=<word>" for each word of its text (messages,
// whispers included, tags, rating comments, file names, email
// subjects): staff search everything; visitors never search.

// historyVersion is the index's layout and tokenizer, and the
// statistics' (h/s/, built with it): a store whose h/meta says otherwise
// is rebuilt from the logs at start. 2: with the statistics.
const historyVersion = "2"

// maxPreviewBytes bounds an entry's preview.
const maxPreviewBytes = 200

// facets lists an entry's facets but its words (those only grow).
func facets(e *messages.ChatHistoryEntry) map[string]bool {
	out := map[string]bool{messages.HistoryAll: true, messages.HistoryVisitor(e.GetVisitorId()): true, messages.HistoryState(e.GetState()): true}
	for _, d := range e.GetDepartments() {
		out[messages.HistoryDepartment(d)] = true
	}
	for _, a := range e.GetAgents() {
		out[messages.HistoryAgent(a)] = true
	}
	for _, t := range e.GetTags() {
		out[messages.HistoryTag(t)] = true
	}
	if r := e.GetRating(); r != messages.RatingScore_RATING_SCORE_UNSPECIFIED {
		out[messages.HistoryRating(r)] = true
	}
	return out
}

// fold applies one event to a chat's entry and passes the words of its
// text to word.
func fold(e *messages.ChatHistoryEntry, ev *messages.ChatEvent, word func(string)) {
	e.IndexedSeq = ev.GetSeq()
	if e.StartedAtMs == 0 {
		e.StartedAtMs = ev.GetAtMs()
	}
	switch k := ev.GetKind().(type) {
	case *messages.ChatEvent_Created:
		e.Departments = []string{k.Created.GetDepartment()}
		e.VisitorId, e.VisitorName, e.Language = k.Created.GetVisitorId(), k.Created.GetVisitorName(), k.Created.GetLanguage()
		e.StartedAtMs, e.State = ev.GetAtMs(), messages.ChatState_CHAT_STATE_QUEUED
	case *messages.ChatEvent_Message:
		messages.HistoryWords(k.Message.GetText(), word)
		if e.Preview == "" && !ev.GetInternal() && k.Message.GetFrom().GetKind() == messages.ParticipantKind_PARTICIPANT_KIND_VISITOR {
			e.Preview = truncate(k.Message.GetText(), maxPreviewBytes)
		}
	case *messages.ChatEvent_Assigned:
		e.State = messages.ChatState_CHAT_STATE_ACTIVE
		addAgent(e, k.Assigned.GetAgentId(), k.Assigned.GetAgentName(), !ev.GetInternal())
	case *messages.ChatEvent_Transferred:
		e.State = messages.ChatState_CHAT_STATE_QUEUED
		if d := k.Transferred.GetToDepartment(); d != "" && (len(e.Departments) == 0 || d != e.Departments[len(e.Departments)-1]) {
			e.Departments = append(e.Departments, d)
		}
	case *messages.ChatEvent_Requeued, *messages.ChatEvent_Reopened:
		e.State, e.EndedAtMs = messages.ChatState_CHAT_STATE_QUEUED, 0
	case *messages.ChatEvent_Member:
		if w := k.Member.GetWho(); k.Member.GetAction() == messages.MemberAction_MEMBER_ACTION_JOINED && w.GetKind() == messages.ParticipantKind_PARTICIPANT_KIND_AGENT {
			addAgent(e, w.GetId(), w.GetDisplayName(), !ev.GetInternal() && !k.Member.GetInvisible())
		}
	case *messages.ChatEvent_Renamed:
		if _, ok := e.AgentNames[k.Renamed.GetAgentId()]; ok {
			e.AgentNames[k.Renamed.GetAgentId()] = k.Renamed.GetDisplayName()
		}
	case *messages.ChatEvent_Closed:
		e.State, e.EndedAtMs = messages.ChatState_CHAT_STATE_CLOSED, ev.GetAtMs()
	default:
		foldDesk(e, ev, word)
	}
}

// foldDesk applies the everyday desk's events (issue 13): tags, ratings,
// files, emails.
func foldDesk(e *messages.ChatHistoryEntry, ev *messages.ChatEvent, word func(string)) {
	switch k := ev.GetKind().(type) {
	case *messages.ChatEvent_Tagged:
		t := k.Tagged.GetTag()
		messages.HistoryWords(t, word)
		e.Tags = slices.DeleteFunc(e.Tags, func(x string) bool { return x == t })
		if !k.Tagged.GetRemoved() {
			e.Tags = append(e.Tags, t)
			slices.Sort(e.Tags)
		}
	case *messages.ChatEvent_Rated:
		e.Rating = k.Rated.GetScore()
		messages.HistoryWords(k.Rated.GetComment(), word)
	case *messages.ChatEvent_Attachment:
		messages.HistoryWords(k.Attachment.GetName(), word)
	case *messages.ChatEvent_Emailed:
		messages.HistoryWords(k.Emailed.GetSubject(), word)
	}
}

func addAgent(e *messages.ChatHistoryEntry, id, name string, visible bool) {
	if id == "" {
		return
	}
	if !slices.Contains(e.Agents, id) {
		e.Agents = append(e.Agents, id)
	}
	if e.AgentNames == nil {
		e.AgentNames = map[string]string{}
	}
	e.AgentNames[id] = name
	if visible && !slices.Contains(e.VisibleAgents, id) {
		e.VisibleAgents = append(e.VisibleAgents, id)
	}
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
