package persistence

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
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

// historyVersion is the index's layout and tokenizer: a store whose
// h/meta says otherwise is rebuilt from the logs at start.
const historyVersion = "1"

const (
	// maxWordBytes: longer words (hashes, base64) are not indexed.
	maxWordBytes = 64
	// maxPreviewBytes bounds an entry's preview.
	maxPreviewBytes = 200
)

// words calls fn with each word of text, lower-cased: runs of letters and
// digits, at most maxWordBytes long (longer ones are skipped).
func words(text string, fn func(string)) {
	start := -1
	emit := func(end int) {
		if start >= 0 && end-start <= maxWordBytes {
			fn(strings.ToLower(text[start:end]))
		}
		start = -1
	}
	for i, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		emit(i)
	}
	emit(len(text))
}

// QueryWords splits a search into the words the index has: what a search
// for q matches is the chats that have every one of them.
func QueryWords(q string) []string {
	var out []string
	words(q, func(w string) {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	})
	return out
}

// Facet names, as a query asks for them.
func FacetDepartment(id string) string { return "d=" + id }
func FacetAgent(id string) string      { return "a=" + id }
func FacetVisitor(id string) string    { return "v=" + id }
func FacetTag(tag string) string       { return "g=" + tag }
func FacetWord(w string) string        { return "w=" + w }
func FacetState(s messages.ChatState) string {
	return "s=" + strconv.Itoa(int(s))
}
func FacetRating(r messages.RatingScore) string { return "r=" + strconv.Itoa(int(r)) }

const facetAll = "all"

// facets lists an entry's facets but its words (those only grow).
func facets(e *messages.ChatHistoryEntry) map[string]bool {
	out := map[string]bool{facetAll: true, FacetVisitor(e.GetVisitorId()): true, FacetState(e.GetState()): true}
	for _, d := range e.GetDepartments() {
		out[FacetDepartment(d)] = true
	}
	for _, a := range e.GetAgents() {
		out[FacetAgent(a)] = true
	}
	for _, t := range e.GetTags() {
		out[FacetTag(t)] = true
	}
	if r := e.GetRating(); r != messages.RatingScore_RATING_SCORE_UNSPECIFIED {
		out[FacetRating(r)] = true
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
		words(k.Message.GetText(), word)
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
		words(t, word)
		e.Tags = slices.DeleteFunc(e.Tags, func(x string) bool { return x == t })
		if !k.Tagged.GetRemoved() {
			e.Tags = append(e.Tags, t)
			slices.Sort(e.Tags)
		}
	case *messages.ChatEvent_Rated:
		e.Rating = k.Rated.GetScore()
		words(k.Rated.GetComment(), word)
	case *messages.ChatEvent_Attachment:
		words(k.Attachment.GetName(), word)
	case *messages.ChatEvent_Emailed:
		words(k.Emailed.GetSubject(), word)
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
