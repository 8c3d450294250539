package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

var rewriteStats = flag.Bool("rewrite-stats", false, "rewrite the statistics' golden files under testdata/stats")

// statsScenario runs a known day through the real broker: step moves the
// clock (a fake one, or nothing) between the steps, each awaited first.
//   - v1 asks Sales; Alice takes it after 20 s, answers 5 s later, the
//     visitor writes, Alice closes 60 s later; v1 rates it good with a
//     comment that holds markup.
//   - v2 asks Sales; Alice declines the offer and goes away; v2 leaves
//     after 90 s: missed.
//   - v3 asks Sales; Alice takes it after 10 s and, 30 s later, transfers
//     it to Support, where Bob takes it 15 s later, answers after 5 s and
//     closes 40 s later; v3 rates it bad.
//   - v4 asks for a department that does not exist: refused.
//
// It returns the visitors' chat ids.
func statsScenario(t *testing.T, addr string, step func(time.Duration)) []string {
	t.Helper()
	alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	bob, _ := newAgent(t, addr, "bob@demo", "bob-demo-pw", true)
	step(time.Minute)

	v1, _ := newVisitor(t, addr, false)
	c1 := mustChatID(t, requestChat(t, v1, "sales", "en", "Hello"))
	awaitOffer(t, alice)
	step(20 * time.Second)
	accept(t, alice, c1)
	awaitActive(t, alice, 1)
	step(5 * time.Second)
	send(t, alice, c1, "a1", "Hi, how can I help?")
	step(2 * time.Second)
	send(t, v1, c1, "v1", "Where is my order?")
	step(60 * time.Second)
	mustCall(t, alice, &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: c1}}})
	awaitActive(t, alice, 0)
	awaitEvent(t, v1, c1, func(ev *messages.ChatEvent) bool { return ev.GetClosed() != nil })
	mustCall(t, v1, &messages.Envelope{Body: &messages.Envelope_RateChat{RateChat: &messages.RateChat{ChatId: c1,
		Score: messages.RatingScore_RATING_SCORE_GOOD, Comment: "great <b>help</b>"}}})
	step(time.Minute)

	v2, _ := newVisitor(t, addr, false)
	c2 := mustChatID(t, requestChat(t, v2, "sales", "en", "Anyone?"))
	awaitOffer(t, alice)
	step(10 * time.Second)
	mustCall(t, alice, &messages.Envelope{Body: &messages.Envelope_DeclineOffer{DeclineOffer: &messages.DeclineOffer{ChatId: c2}}})
	setStatus(t, alice, messages.AgentStatus_AGENT_STATUS_AWAY)
	step(90 * time.Second)
	mustCall(t, v2, &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: c2}}})
	setStatus(t, alice, messages.AgentStatus_AGENT_STATUS_AVAILABLE)
	step(time.Minute)

	v3, _ := newVisitor(t, addr, false)
	c3 := mustChatID(t, requestChat(t, v3, "sales", "en", "Help with a bug"))
	awaitOffer(t, alice)
	step(10 * time.Second)
	accept(t, alice, c3)
	awaitActive(t, alice, 1)
	step(30 * time.Second)
	mustCall(t, alice, &messages.Envelope{Body: &messages.Envelope_TransferChat{TransferChat: &messages.TransferChat{ChatId: c3, ToDepartment: "support"}}})
	awaitActive(t, alice, 0)
	awaitOffer(t, bob)
	step(15 * time.Second)
	accept(t, bob, c3)
	awaitActive(t, bob, 1)
	step(5 * time.Second)
	send(t, bob, c3, "b1", "Bob from Support here")
	step(40 * time.Second)
	mustCall(t, bob, &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: c3}}})
	awaitActive(t, bob, 0)
	awaitEvent(t, v3, c3, func(ev *messages.ChatEvent) bool { return ev.GetClosed() != nil })
	mustCall(t, v3, &messages.Envelope{Body: &messages.Envelope_RateChat{RateChat: &messages.RateChat{ChatId: c3,
		Score: messages.RatingScore_RATING_SCORE_BAD, Comment: "slow"}}})

	v4, _ := newVisitor(t, addr, false)
	if env := requestChat(t, v4, "nowhere", "en", "hi"); env.GetChatRefused().GetReason() != messages.RefusalReason_REFUSAL_REASON_UNKNOWN_DEPARTMENT {
		t.Fatalf("a request for a department that does not exist: %v", env)
	}
	step(5 * time.Minute)
	return []string{c1, c2, c3}
}

// awaitActive takes the agent's state pushes, in order, until one says
// they have n chats: the agent's actor has counted the change (and
// stored it for the statistics) before the clock moves on.
func awaitActive(t *testing.T, c *gateway.Client, n uint32) {
	t.Helper()
	for {
		env, err := c.Await(ctxT(t), func(e *messages.Envelope) bool { return e.GetAgentState() != nil })
		if err != nil {
			t.Fatalf("waiting for %d active chats: %v", n, err)
		}
		if env.GetAgentState().GetActiveChats() == n {
			return
		}
	}
}

// statsJSON is GET /api/stats?<query> with token, as indented JSON.
func statsJSON(t *testing.T, addr, token string, q url.Values) (int, string) {
	t.Helper()
	code, body := staffHTTP(t, addr, token, "GET", "/api/stats?"+q.Encode(), "")
	var out bytes.Buffer
	if code == http.StatusOK {
		if err := json.Indent(&out, []byte(body), "", "  "); err != nil {
			t.Fatalf("GET /api/stats?%s: %v\n%s", q.Encode(), err, body)
		}
		return code, out.String() + "\n"
	}
	return code, body
}

// TestStatsGolden: the scenario's figures, by department, agent and in
// total, hour by hour in Stockholm's time, equal the golden files to the
// millisecond (go test -run TestStatsGolden -rewrite-stats rewrites
// them); the projection lags the events by at most about a quarter of a
// second, so the test polls until the last rating is counted.
func TestStatsGolden(t *testing.T) {
	clock := newFakeClock()
	m := startBroker(t, t.TempDir(), func(c *Config) { c.Clock = clock })
	addr := m.Addr()
	start := clock.Now()
	chats := statsScenario(t, addr, clock.Advance)
	q := func(kv ...string) url.Values {
		v := url.Values{"from": {start.Add(-time.Hour).Format(time.RFC3339)}, "to": {start.Add(2 * time.Hour).Format(time.RFC3339)},
			"tz": {"Europe/Stockholm"}, "bucket": {"hour"}}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	eventually(t, "the last rating counted", func() bool {
		_, body := statsJSON(t, addr, testAdminToken, q())
		return bytes.Contains([]byte(body), []byte(`"rated_bad": 1`))
	})
	for name, query := range map[string]url.Values{"all": q(), "sales": q("department", "sales"),
		"support": q("department", "support"), "alice": q("agent", "alice"), "bob": q("agent", "bob")} {
		code, got := statsJSON(t, addr, testAdminToken, query)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", name, code, got)
		}
		for i, id := range chats { // chat ids are random: named by their place
			got = strings.ReplaceAll(got, id, fmt.Sprintf("<chat %d>", i+1))
		}
		file := filepath.Join("testdata", "stats", name+".json")
		if *rewriteStats {
			if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v (run with -rewrite-stats to write it)", err)
		}
		if got != string(want) {
			t.Errorf("%s's figures differ from %s:\n%s", name, file, got)
		}
	}
}
