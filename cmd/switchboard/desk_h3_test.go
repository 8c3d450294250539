package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// The everyday desk, end to end (issue 13): canned replies, tags and
// ratings through the real gateway and storage.

// deskChat has a visitor ("Visitor") ask Sales and Alice take the chat.
func deskChat(t *testing.T, addr string) (v, a *gateway.Client, chat string) {
	t.Helper()
	v, _ = newVisitor(t, addr, true)
	chat = mustChatID(t, requestChat(t, v, "sales", "en", "Hello?"))
	a, _ = newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	awaitOffer(t, a)
	accept(t, a, chat)
	return v, a, chat
}

// TestCannedReplyExpanded: a department's canned reply with placeholders,
// set by the administrator, and an agent's own that replaces it for her;
// an unknown placeholder is refused and nothing is stored.
func TestCannedReplyExpanded(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	text := "Hello {visitor.name}, I am {agent.name} from {department.name}: your refund is on its way."
	mustAdmin(t, addr, "PUT", "/admin/departments/sales/canned/refund", map[string]any{"text": text})
	var e map[string]any
	if code := admin(t, addr, "PUT", "/admin/departments/sales/canned/oops", map[string]any{"text": "Hi {visitor.nmae}"}, &e); code != http.StatusBadRequest || e["field"] != "text" {
		t.Fatalf("unknown placeholder: %d %v", code, e)
	}
	var list struct {
		Replies []map[string]any `json:"replies"`
	}
	admin(t, addr, "GET", "/admin/departments/sales/canned", nil, &list)
	if len(list.Replies) != 1 || list.Replies[0]["shortcut"] != "refund" || list.Replies[0]["text"] != text {
		t.Fatalf("sales' canned replies = %v", list.Replies)
	}

	_, a, chat := deskChat(t, addr)
	env, err := call(t, a, &messages.Envelope{Body: &messages.Envelope_ListCanned{ListCanned: &messages.ListCanned{Department: "sales"}}})
	if err != nil || len(env.GetCannedReplies().GetReplies()) != 1 {
		t.Fatalf("list_canned = %v, %v", env, err)
	}
	expand := func(shortcut string) (string, error) {
		env, err := call(t, a, &messages.Envelope{Body: &messages.Envelope_ExpandCanned{ExpandCanned: &messages.ExpandCanned{ChatId: chat, Shortcut: shortcut}}})
		return env.GetCannedExpansion().GetText(), err
	}
	if got, err := expand("#refund"); err != nil || got != "Hello Visitor, I am Alice from Sales: your refund is on its way." {
		t.Fatalf("#refund = %q, %v", got, err)
	}
	if _, err := expand("#nothing"); errCode(err) != messages.ErrorCode_ERROR_CODE_NOT_FOUND {
		t.Fatalf("#nothing: %v", err)
	}
	cannedOwnReplaces(t, addr, expand)
}

// cannedOwnReplaces: Alice's own #refund replaces the department's for
// her, until she deletes it; she may not set a department's (she does not
// manage it); every change is audited.
func cannedOwnReplaces(t *testing.T, addr string, expand func(string) (string, error)) {
	t.Helper()
	tok := loginToken(t, addr, "alice@demo", "alice-demo-pw")
	if code, body := staffHTTP(t, addr, tok, "PUT", "/api/canned/refund", `{"text":"{visitor.name}, {agent.name} here: refunded."}`); code != http.StatusOK {
		t.Fatalf("own reply: %d %s", code, body)
	}
	if code, body := staffHTTP(t, addr, tok, "PUT", "/admin/departments/sales/canned/mine", `{"text":"x"}`); code != http.StatusForbidden {
		t.Fatalf("an agent who does not manage sales set its reply: %d %s", code, body)
	}
	if got, err := expand("refund"); err != nil || got != "Visitor, Alice here: refunded." {
		t.Fatalf("own #refund = %q, %v", got, err)
	}
	code, body := staffHTTP(t, addr, tok, "GET", "/api/canned", "")
	if code != http.StatusOK || strings.Count(body, `"shortcut":"refund"`) != 2 || !strings.Contains(body, `"agent_id":"alice"`) {
		t.Fatalf("GET /api/canned = %d %s", code, body)
	}
	if code, body := staffHTTP(t, addr, tok, "DELETE", "/api/canned/refund", ""); code != http.StatusNoContent {
		t.Fatalf("delete own: %d %s", code, body)
	}
	if got, _ := expand("refund"); !strings.HasPrefix(got, "Hello Visitor") {
		t.Fatalf("after deleting her own, #refund = %q", got)
	}
	// Audit entries are written without waiting (gateway.Server.audit):
	// the three successful changes appear shortly after the responses.
	eventually(t, "two canned.put and one canned.delete audited as done", func() bool {
		k := auditKinds(t, addr, "")
		return k["canned.put"] == 2 && k["canned.delete"] == 1
	})
}

// TestRequiredTagBlocksClose: Sales requires a tag; Alice's close of the
// untagged chat is refused and changes nothing; she tags it (the visitor
// never sees the tag, and their numbering has no gap), then closes it.
func TestRequiredTagBlocksClose(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	var e map[string]any
	if code := admin(t, addr, "PUT", "/admin/departments/sales", map[string]any{"name": "Sales", "chat_enabled": true, "require_tag": true}, &e); code != http.StatusBadRequest || e["field"] != "require_tag" {
		t.Fatalf("require_tag without tags: %d %v", code, e)
	}
	mustAdmin(t, addr, "PUT", "/admin/departments/sales", map[string]any{"name": "Sales", "chat_enabled": true, "tags": []string{"billing", "bug"}, "require_tag": true})
	v, a, chat := deskChat(t, addr)
	closeChat := &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: chat}}}
	_, err := call(t, a, closeChat)
	if errCode(err) != messages.ErrorCode_ERROR_CODE_CONFLICT || !strings.Contains(err.Error(), "require_tag") {
		t.Fatalf("untagged close: %v", err)
	}
	if rec := record(t, addr, chat); rec.GetState() != messages.ChatState_CHAT_STATE_ACTIVE {
		t.Fatalf("after a refused close the chat is %v", rec.GetState())
	}
	tag := func(tag string, remove bool) error {
		_, err := call(t, a, &messages.Envelope{Body: &messages.Envelope_TagChat{TagChat: &messages.TagChat{ChatId: chat, Tag: tag, Remove: remove}}})
		return err
	}
	if err := tag("refund", false); errCode(err) != messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT {
		t.Fatalf("a tag sales does not list: %v", err)
	}
	if err := tag("billing", false); err != nil {
		t.Fatal(err)
	}
	if ev := awaitEvent(t, a, chat, func(ev *messages.ChatEvent) bool { return ev.GetTagged() != nil }); !ev.GetInternal() || ev.GetTagged().GetTag() != "billing" {
		t.Fatalf("Alice's tag event = %v", ev)
	}
	send(t, a, chat, "a1", "Done: tagged.")
	// The visitor's stream: the assignment, then Alice's message, with no
	// event between them and no gap in their numbering.
	assigned := awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetAssigned() != nil })
	next := awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetSeq() > assigned.GetSeq() })
	if next.GetMessage().GetText() != "Done: tagged." || next.GetSeq() != assigned.GetSeq()+1 {
		t.Fatalf("after the assignment (seq %d) the visitor saw %v", assigned.GetSeq(), next)
	}
	if _, err := call(t, a, closeChat); err != nil {
		t.Fatalf("tagged close: %v", err)
	}
	rec := record(t, addr, chat)
	if rec.GetState() != messages.ChatState_CHAT_STATE_CLOSED || len(rec.GetTags()) != 1 || rec.GetTags()[0] != "billing" {
		t.Fatalf("record = %v, tags %v", rec.GetState(), rec.GetTags())
	}
	// The record keeps the tag staff-only.
	for _, ev := range rec.GetTranscript() {
		if ev.GetTagged() != nil && (!ev.GetInternal() || ev.GetVisitorSeq() != 0) {
			t.Fatalf("a tag event is visible: %v", ev)
		}
	}
}

// TestRatingAfterCloseReachesTheAgent: a rating before the close is
// refused; after it, the visitor's rating reaches Alice's socket and the
// chat's record; a later rating replaces it.
func TestRatingAfterCloseReachesTheAgent(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	v, a, chat := deskChat(t, addr)
	rate := func(score messages.RatingScore, comment string) (*messages.Envelope, error) {
		return call(t, v, &messages.Envelope{Body: &messages.Envelope_RateChat{RateChat: &messages.RateChat{ChatId: chat, Score: score, Comment: comment}}})
	}
	if _, err := rate(messages.RatingScore_RATING_SCORE_GOOD, ""); errCode(err) != messages.ErrorCode_ERROR_CODE_CONFLICT {
		t.Fatalf("a rating before the close: %v", err)
	}
	before := len(record(t, addr, chat).GetTranscript())
	if _, err := call(t, v, &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: chat}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := rate(messages.RatingScore_RATING_SCORE_BAD, strings.Repeat("x", 1001)); errCode(err) != messages.ErrorCode_ERROR_CODE_TOO_LARGE {
		t.Fatalf("a long comment: %v", err)
	}
	if n := len(record(t, addr, chat).GetTranscript()); n != before+1 {
		t.Fatalf("refused ratings wrote: %d events, want %d", n, before+1)
	}
	ack, err := rate(messages.RatingScore_RATING_SCORE_BAD, "Too slow")
	if err != nil || ack.GetAck().GetSeq() == 0 {
		t.Fatalf("rating: %v, %v", ack, err)
	}
	ev := awaitEvent(t, a, chat, func(ev *messages.ChatEvent) bool { return ev.GetRated() != nil })
	if r := ev.GetRated(); r.GetScore() != messages.RatingScore_RATING_SCORE_BAD || r.GetComment() != "Too slow" || r.GetAgentId() != "alice" || r.GetDepartment() != "sales" {
		t.Fatalf("Alice got %v", ev)
	}
	if _, err := rate(messages.RatingScore_RATING_SCORE_GOOD, "Thought again"); err != nil {
		t.Fatal(err)
	}
	if rec := record(t, addr, chat); rec.GetRating().GetScore() != messages.RatingScore_RATING_SCORE_GOOD || rec.GetRating().GetAgentId() != "alice" {
		t.Fatalf("record rating = %v", rec.GetRating())
	}
	// Another visitor cannot rate it: it looks like no chat.
	other, _ := newVisitor(t, addr, false)
	if _, err := call(t, other, &messages.Envelope{Body: &messages.Envelope_RateChat{RateChat: &messages.RateChat{ChatId: chat, Score: messages.RatingScore_RATING_SCORE_BAD}}}); errCode(err) != messages.ErrorCode_ERROR_CODE_NOT_FOUND {
		t.Fatalf("another visitor's rating: %v", err)
	}
}

// TestRatingSurvivesKill9: a rating acknowledged by a broker child is in
// the chat's record after kill -9 and a restart.
func TestRatingSurvivesKill9(t *testing.T) {
	dir := t.TempDir()
	c := startChild(t, dir)
	v, a, chat := deskChat(t, c.addr)
	if _, err := call(t, a, &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: chat}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := call(t, v, &messages.Envelope{Body: &messages.Envelope_RateChat{RateChat: &messages.RateChat{ChatId: chat,
		Score: messages.RatingScore_RATING_SCORE_GOOD, Comment: "Quick and kind"}}}); err != nil {
		t.Fatal(err)
	}
	c.kill()
	c = startChild(t, dir)
	rec := record(t, c.addr, chat)
	if r := rec.GetRating(); r.GetScore() != messages.RatingScore_RATING_SCORE_GOOD || r.GetComment() != "Quick and kind" || r.GetAgentId() != "alice" {
		t.Fatalf("after kill -9 the rating is %v", r)
	}
}
