package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// routingStory reads GET /api/chats/{id}/routing with token (the admin
// credential, a session or a visitor's resume token).
func routingStory(t *testing.T, addr, token, chat string) (int, *messages.RoutingStory, string) {
	t.Helper()
	code, body := staffHTTP(t, addr, token, "GET", "/api/chats/"+chat+"/routing", "")
	story := &messages.RoutingStory{}
	if code == http.StatusOK {
		if err := protoIn.Unmarshal([]byte(body), story); err != nil {
			t.Fatalf("routing story %q: %v", body, err)
		}
	}
	return code, story, body
}

// storyOf is a story's decisions as "KIND agent" lines.
func storyOf(s *messages.RoutingStory) []string {
	var out []string
	for _, d := range s.GetDecisions() {
		out = append(out, strings.TrimPrefix(d.GetKind().String(), "ROUTING_DECISION_KIND_")+" "+d.GetAgentId())
	}
	return out
}

// reasonsOf is a decision's candidates as agent -> reason.
func reasonsOf(d *messages.RoutingDecision) map[string]messages.RoutingSkip {
	out := map[string]messages.RoutingSkip{}
	for _, c := range d.GetCandidates() {
		out[c.GetAgentId()] = c.GetReason()
	}
	return out
}

// routingDesk is a department "story" (least-loaded, offers expire after
// 5 s) on a fake clock, with six agents signed in: ann, ben and cat
// available in English (limit 2), dot available with a chat already (at
// her limit of 1), eve available in Spanish only, fay away; sue supervises it
// (role lead: live_chat and supervise), zed is an agent of sales.
type routingDesk struct {
	t      *testing.T
	m      *Main
	clock  *fakeClock
	agents map[string]*gateway.Client
	sue    *gateway.Client
}

const deskPassword = "story-password"

func newRoutingDesk(t *testing.T) *routingDesk {
	clock := newFakeClock()
	m := startBroker(t, t.TempDir(), func(c *Config) { c.Clock = clock })
	addr := m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/roles/lead", map[string]any{"name": "Lead", "permissions": []string{"live_chat", "supervise"}})
	dept := map[string]any{"name": "Story", "chat_enabled": true, "offer_timeout_ms": 5000}
	mustAdmin(t, addr, "PUT", "/admin/departments/story", dept)
	put := func(id, role string, deps, langs []string, limit int) {
		mustAdmin(t, addr, "PUT", "/admin/agents/"+id, map[string]any{"login": id + "@story", "password": deskPassword, "display_name": strings.ToUpper(id[:1]) + id[1:],
			"role": role, "departments": deps, "languages": langs, "chat_agent": true, "max_chats": limit})
	}
	for _, id := range []string{"ann", "ben", "cat"} {
		put(id, "", []string{"story"}, []string{"en"}, 2)
	}
	put("dot", "", []string{"story"}, []string{"en"}, 1)
	put("fay", "", []string{"story"}, []string{"en"}, 1)
	put("eve", "", []string{"story"}, []string{"es"}, 1)
	put("sue", "lead", nil, []string{"en"}, 1)
	put("zed", "", []string{"sales"}, []string{"en"}, 1)
	dept["supervisors"] = []string{"sue"}
	mustAdmin(t, addr, "PUT", "/admin/departments/story", dept)
	d := &routingDesk{t: t, m: m, clock: clock, agents: map[string]*gateway.Client{}}
	d.agents["dot"], _ = newAgent(t, addr, "dot@story", deskPassword, true)
	d.waitLive(func(l *messages.StatsLiveDepartment) bool { return l.GetAgentsAvailable() == 1 })
	d.assign(d.request("en"), "dot")
	for _, id := range []string{"ann", "ben", "cat", "eve"} {
		d.agents[id], _ = newAgent(t, addr, id+"@story", deskPassword, true)
	}
	d.agents["fay"], _ = newAgent(t, addr, "fay@story", deskPassword, false)
	setStatus(t, d.agents["fay"], messages.AgentStatus_AGENT_STATUS_AWAY)
	d.sue, _ = newAgent(t, addr, "sue@story", deskPassword, false)
	d.waitLive(func(l *messages.StatsLiveDepartment) bool {
		return l.GetAgentsAvailable() == 5 && l.GetAgentsAway() == 1
	})
	return d
}

// waitLive waits until the story queue's live figures satisfy ok.
func (d *routingDesk) waitLive(ok func(*messages.StatsLiveDepartment) bool) {
	d.t.Helper()
	eventually(d.t, "the story queue's agents", func() bool {
		live, err := d.m.broker.LiveFigures(ctxT(d.t), []string{"story"})
		return err == nil && ok(live.GetDepartments()[0])
	})
}

// request has a new visitor ask a chat of story in lang.
func (d *routingDesk) request(lang string) string {
	v, _ := newVisitor(d.t, d.m.Addr(), false)
	return mustChatID(d.t, requestChat(d.t, v, "story", lang, "hello"))
}

// offered waits until chat's story has n decisions, the last one an
// offer, and says to whom.
func (d *routingDesk) offered(chat string, n int) string {
	d.t.Helper()
	var story *messages.RoutingStory
	eventually(d.t, "an offer of "+chat, func() bool {
		_, story, _ = routingStory(d.t, d.m.Addr(), testAdminToken, chat)
		ds := story.GetDecisions()
		return len(ds) >= n && ds[n-1].GetKind() == messages.RoutingDecisionKind_ROUTING_DECISION_KIND_OFFERED
	})
	return story.GetDecisions()[n-1].GetAgentId()
}

// assign has chat accepted by whoever it is offered to, which must be
// want ("": anyone); it returns who.
func (d *routingDesk) assign(chat, want string) string {
	d.t.Helper()
	who := d.offered(chat, 2)
	if want != "" && who != want {
		d.t.Fatalf("%s offered to %s, want %s", chat, who, want)
	}
	awaitOffer(d.t, d.agents[who])
	accept(d.t, d.agents[who], chat)
	return who
}

// A chat's routing story through the real gateway: offered to ann, who
// declines; to ben, who lets it expire; to cat, who accepts. Each offer
// lists everyone with why they were passed over. A chat that nobody can
// take says why it waits, over HTTP and to the department's monitors.
func TestRoutingStory(t *testing.T) {
	d := newRoutingDesk(t)
	addr := d.m.Addr()
	chat := d.request("en")
	if who := d.offered(chat, 2); who != "ann" {
		t.Fatalf("first offer to %s, want ann", who)
	}
	awaitOffer(t, d.agents["ann"])
	mustCall(t, d.agents["ann"], &messages.Envelope{Body: &messages.Envelope_DeclineOffer{DeclineOffer: &messages.DeclineOffer{ChatId: chat}}})
	if who := d.offered(chat, 4); who != "ben" {
		t.Fatalf("second offer to %s, want ben", who)
	}
	awaitOffer(t, d.agents["ben"])
	d.clock.Advance(5 * time.Second)
	d.assign3(chat)

	_, story, _ := routingStory(t, addr, testAdminToken, chat)
	want := []string{"QUEUED ", "OFFERED ann", "DECLINED ann", "OFFERED ben", "EXPIRED ben", "OFFERED cat", "ASSIGNED cat"}
	if got := storyOf(story); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("story %v, want %v", got, want)
	}
	if story.GetNow() != nil {
		t.Fatalf("an assigned chat explained as waiting: %v", story.GetNow())
	}
	ds := story.GetDecisions()
	checkReasons(t, "the first offer", ds[1], map[string]messages.RoutingSkip{"ann": messages.RoutingSkip_ROUTING_SKIP_CHOSEN,
		"ben": messages.RoutingSkip_ROUTING_SKIP_MORE_LOADED, "cat": messages.RoutingSkip_ROUTING_SKIP_MORE_LOADED,
		"dot": messages.RoutingSkip_ROUTING_SKIP_AT_LIMIT, "eve": messages.RoutingSkip_ROUTING_SKIP_LANGUAGE, "fay": messages.RoutingSkip_ROUTING_SKIP_AWAY})
	checkReasons(t, "the second offer", ds[3], map[string]messages.RoutingSkip{"ben": messages.RoutingSkip_ROUTING_SKIP_CHOSEN,
		"ann": messages.RoutingSkip_ROUTING_SKIP_COOLING, "cat": messages.RoutingSkip_ROUTING_SKIP_MORE_LOADED,
		"dot": messages.RoutingSkip_ROUTING_SKIP_AT_LIMIT, "eve": messages.RoutingSkip_ROUTING_SKIP_LANGUAGE, "fay": messages.RoutingSkip_ROUTING_SKIP_AWAY})
	checkReasons(t, "the third offer", ds[5], map[string]messages.RoutingSkip{"cat": messages.RoutingSkip_ROUTING_SKIP_CHOSEN,
		"ann": messages.RoutingSkip_ROUTING_SKIP_COOLING, "ben": messages.RoutingSkip_ROUTING_SKIP_COOLING,
		"dot": messages.RoutingSkip_ROUTING_SKIP_AT_LIMIT, "eve": messages.RoutingSkip_ROUTING_SKIP_LANGUAGE, "fay": messages.RoutingSkip_ROUTING_SKIP_AWAY})
	for i, dec := range ds {
		if dec.GetChatId() != chat || dec.GetDepartment() != "story" || dec.GetPolicy() != "least_loaded" || dec.GetSettingsVersion() == 0 || dec.GetAtMs() == 0 || dec.GetDetail() == "" {
			t.Fatalf("decision %d incomplete: %v", i, dec)
		}
	}
	d.whyStillWaiting()
}

// assign3 waits for the third offer (to cat, once ben's expired) and has
// cat accept it.
func (d *routingDesk) assign3(chat string) {
	d.t.Helper()
	if who := d.offered(chat, 6); who != "cat" {
		d.t.Fatalf("third offer to %s, want cat", who)
	}
	awaitOffer(d.t, d.agents["cat"])
	accept(d.t, d.agents["cat"], chat)
}

func checkReasons(t *testing.T, what string, d *messages.RoutingDecision, want map[string]messages.RoutingSkip) {
	t.Helper()
	got := reasonsOf(d)
	if len(got) != len(want) || d.GetAgentId() != "" && d.GetCandidates()[0].GetAgentId() != d.GetAgentId() {
		t.Fatalf("%s: candidates %v, want %v (the chosen one first)", what, got, want)
	}
	for id, r := range want {
		if got[id] != r {
			t.Errorf("%s: %s passed over as %s, want %s", what, id, got[id], r)
		}
	}
}

// whyStillWaiting fills ann's, ben's and cat's places, then asks a chat
// nobody can take: GET .../routing's now and the monitors' head_routing
// say why (everyone who speaks English at their limit).
func (d *routingDesk) whyStillWaiting() {
	t := d.t
	for range 5 {
		d.assign(d.request("en"), "")
	}
	mustCall(t, d.sue, &messages.Envelope{Body: &messages.Envelope_Monitor{Monitor: &messages.Monitor{Departments: []string{"story"}}}})
	chat := d.request("en")
	want := map[string]messages.RoutingSkip{"ann": messages.RoutingSkip_ROUTING_SKIP_AT_LIMIT, "ben": messages.RoutingSkip_ROUTING_SKIP_AT_LIMIT,
		"cat": messages.RoutingSkip_ROUTING_SKIP_AT_LIMIT, "dot": messages.RoutingSkip_ROUTING_SKIP_AT_LIMIT,
		"eve": messages.RoutingSkip_ROUTING_SKIP_LANGUAGE, "fay": messages.RoutingSkip_ROUTING_SKIP_AWAY}
	words := "nobody can take it now: 4 at their limit, 1 away or offline, 1 not speaking the chat's language"
	var story *messages.RoutingStory
	eventually(t, "why the chat waits", func() bool {
		_, story, _ = routingStory(t, d.m.Addr(), testAdminToken, chat)
		return story.GetNow() != nil && len(story.GetDecisions()) >= 2
	})
	now := story.GetNow()
	if now.GetKind() != messages.RoutingDecisionKind_ROUTING_DECISION_KIND_WAITING || now.GetDetail() != words || now.GetPosition() != 1 {
		t.Fatalf("now %v, want WAITING: %s", now, words)
	}
	checkReasons(t, "now", now, want)
	if got := storyOf(story); got[0] != "QUEUED " || got[1] != "WAITING " {
		t.Fatalf("the waiting chat's story %v, want QUEUED then WAITING", got)
	}
	d.clock.Advance(time.Second) // the monitors' view throttle runs on the clock
	env, err := d.sue.Await(ctxT(t), func(e *messages.Envelope) bool {
		return e.GetDepartmentView().GetHeadRouting().GetChatId() == chat
	})
	if err != nil {
		t.Fatalf("no department view with the head's routing: %v", err)
	}
	head := env.GetDepartmentView().GetHeadRouting()
	if head.GetDetail() != words {
		t.Fatalf("head_routing %v, want %s", head, words)
	}
	checkReasons(t, "head_routing", head, want)
}

// A chat's routing story is for the staff who may read the chat: its
// department's supervisor and agents, not an agent of another department;
// never its visitor, not even their own chat (a typed FORBIDDEN). An
// unknown chat is NOT_FOUND.
func TestRoutingStoryPermissions(t *testing.T) {
	d := newRoutingDesk(t)
	addr := d.m.Addr()
	v, vw := newVisitor(t, addr, false)
	chat := mustChatID(t, requestChat(t, v, "story", "en", "hello"))
	d.offered(chat, 2)
	forbidden := messages.ErrorCode_ERROR_CODE_FORBIDDEN
	for _, c := range []struct {
		who, token string
		code       int
		err        messages.ErrorCode
	}{
		{"the supervisor", loginToken(t, addr, "sue@story", deskPassword), http.StatusOK, 0},
		{"an agent of the department", loginToken(t, addr, "eve@story", deskPassword), http.StatusOK, 0},
		{"an agent of another department", loginToken(t, addr, "zed@story", deskPassword), http.StatusForbidden, forbidden},
		{"the chat's visitor", vw.GetResumeToken(), http.StatusForbidden, forbidden},
		{"the admin credential", testAdminToken, http.StatusOK, 0},
	} {
		code, story, body := routingStory(t, addr, c.token, chat)
		if e, _ := httpErr(code, body).(*messages.Error); code != c.code || e.GetCode() != c.err {
			t.Errorf("%s: %d %s, want %d %s", c.who, code, body, c.code, c.err)
		}
		if code == http.StatusOK && len(story.GetDecisions()) < 2 {
			t.Errorf("%s: story %v", c.who, story)
		}
		if code != http.StatusOK && strings.Contains(body, "ann") {
			t.Errorf("%s: a refusal tells the story: %s", c.who, body)
		}
	}
	// A visitor is refused whatever the chat: even one that does not exist.
	if code, _, body := routingStory(t, addr, vw.GetResumeToken(), "cfffffffffffffffffffffffffff0"); code != http.StatusForbidden {
		t.Errorf("a visitor asking an unknown chat: %d %s, want 403", code, body)
	}
	for _, id := range []string{"cfffffffffffffffffffffffffff0", "not-a-chat"} {
		if code, _, body := routingStory(t, addr, testAdminToken, id); code != http.StatusNotFound || !strings.Contains(body, "ERROR_CODE_NOT_FOUND") {
			t.Errorf("unknown chat %q: %d %s, want a typed 404", id, code, body)
		}
	}
	if code, _, body := routingStory(t, addr, "", chat); code != http.StatusUnauthorized {
		t.Errorf("no credential: %d %s, want 401", code, body)
	}
}
