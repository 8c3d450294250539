package main

import (
	"bytes"
	"encoding/csv"
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
//   - v4 asks for a department that does not exist (between v2 and v3):
//     refused.
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
	// A refusal is a statistics event, stored in order with the writes
	// after it (not acknowledged itself): what follows makes it durable
	// before the crash test's kill.
	v4, _ := newVisitor(t, addr, false)
	if env := requestChat(t, v4, "nowhere", "en", "hi"); env.GetChatRefused().GetReason() != messages.RefusalReason_REFUSAL_REASON_UNKNOWN_DEPARTMENT {
		t.Fatalf("a request for a department that does not exist: %v", env)
	}
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
		v := url.Values{"from": {start.Truncate(15 * time.Minute).Add(-time.Hour).Format(time.RFC3339)},
			"to": {start.Truncate(15 * time.Minute).Add(2 * time.Hour).Format(time.RFC3339)},
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
		"support": q("department", "support"), "alice": q("agent", "alice"), "bob": q("agent", "bob"),
		"alice-in-sales": q("department", "sales", "agent", "alice"), "alice-in-support": q("department", "support", "agent", "alice")} {
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
	statsCSV(t, addr, q("department", "sales"))
}

// statsCSV: the same report as CSV, by its path and by Accept, has a
// header, a row per hour and the total, as the JSON says.
func statsCSV(t *testing.T, addr string, q url.Values) {
	t.Helper()
	for _, how := range []struct{ path, accept string }{{"/api/stats.csv", ""}, {"/api/stats", "text/csv"}} {
		req, _ := http.NewRequest("GET", "http://"+addr+how.path+"?"+q.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+testAdminToken)
		if how.accept != "" {
			req.Header.Set("Accept", how.accept)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(res.Body).ReadAll()
		res.Body.Close()
		if err != nil || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment;") {
			t.Fatalf("%s: %v %v", how.path, err, res.Header)
		}
		if len(rows) != 6 || strings.Join(rows[0][:3], ",") != "start,requested,refused_already_in_chat" || rows[5][0] != "total" || rows[5][1] != "3" {
			t.Fatalf("%s (Accept %q): %v", how.path, how.accept, rows)
		}
		head := strings.Join(rows[0], ",")
		for _, col := range []string{"refused_queue_full", "wait_p90_ms", "within_target_share", "good_share"} {
			if !strings.Contains(head, col) {
				t.Fatalf("no %s column: %s", col, head)
			}
		}
	}
}

// TestStatsPermissions: an agent reads their own figures only (not a
// colleague's of the same department, nor a department's); a supervisor
// reads their department's and its agents', and nothing else; a refusal
// is audited; bad parameters are typed errors naming the field.
func TestStatsPermissions(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	mustAdmin(t, addr, "PUT", "/admin/roles/lead", map[string]any{"name": "Team lead", "permissions": []string{"live_chat", "supervise"}})
	mustAdmin(t, addr, "PUT", "/admin/agents/erik", map[string]any{"login": "erik@demo", "password": "erik-demo-password",
		"display_name": "Erik", "role": "lead", "languages": []string{"en"}})
	mustAdmin(t, addr, "PUT", "/admin/departments/sales", map[string]any{"name": "Sales", "chat_enabled": true, "supervisors": []string{"erik"}})
	alice := loginToken(t, addr, "alice@demo", "alice-demo-pw")
	erik := loginToken(t, addr, "erik@demo", "erik-demo-password")
	for _, c := range []struct {
		who, token, query string
		want              int
	}{
		{"alice", alice, "", http.StatusOK}, // her own
		{"alice", alice, "agent=alice", http.StatusOK},
		{"alice", alice, "agent=carmen", http.StatusForbidden}, // a colleague in Sales
		{"alice", alice, "department=sales", http.StatusForbidden},
		{"alice", alice, "department=sales&agent=alice", http.StatusOK}, // her own, in Sales
		{"alice", alice, "department=sales&agent=carmen", http.StatusForbidden},
		{"erik", erik, "department=sales", http.StatusOK},
		{"erik", erik, "agent=carmen", http.StatusOK}, // in Sales (and Support)
		{"erik", erik, "agent=alice", http.StatusOK},
		{"erik", erik, "department=support", http.StatusForbidden},
		{"erik", erik, "agent=bob", http.StatusForbidden}, // Support only
		{"erik", erik, "department=sales&agent=bob", http.StatusOK},
		{"erik", erik, "department=support&agent=carmen", http.StatusForbidden},
		{"erik", erik, "agent=nobody", http.StatusForbidden},
		{"admin", testAdminToken, "agent=nobody", http.StatusNotFound},
		{"admin", testAdminToken, "department=nowhere", http.StatusNotFound},
	} {
		if code, body := staffHTTP(t, addr, c.token, "GET", "/api/stats?"+c.query, ""); code != c.want {
			t.Errorf("%s: GET /api/stats?%s = %d %s, want %d", c.who, c.query, code, body, c.want)
		}
	}
	// Alice's own figures are what she gets without asking for any.
	if _, body := statsJSON(t, addr, alice, url.Values{}); !strings.Contains(body, `"agent_id": "alice"`) {
		t.Errorf("alice's default report: %s", body)
	}
	eventually(t, "the refusals audited", func() bool {
		n := 0
		for _, e := range auditPage(t, addr, "kind=permission.denied") {
			if strings.HasPrefix(e.GetSubject(), "GET /api/stats") {
				n++
			}
		}
		return n == 7
	})
	for query, field := range map[string]string{"tz=Mars/Olympus": "tz", "bucket=week": "bucket", "period=forever": "period",
		"from=2026-01-01": "to", "from=2026-02-01&to=2026-01-01": "to", "from=2025-01-01&to=2026-06-01": "from",
		"from=2026-01-01&to=2026-03-01&bucket=hour": "bucket", "color=red": "color",
		"period=today&from=2026-01-01": "period", "from=2026-01-01T10:07:00Z&to=2026-01-01T11:00:00Z": "from"} {
		var e map[string]any
		code, body := staffHTTP(t, addr, testAdminToken, "GET", "/api/stats?"+query, "")
		json.Unmarshal([]byte(body), &e)
		if code != http.StatusBadRequest || e["field"] != field {
			t.Errorf("GET /api/stats?%s = %d %s, want 400 naming %s", query, code, body, field)
		}
	}
}
