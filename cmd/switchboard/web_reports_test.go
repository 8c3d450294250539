package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

// readStats reads GET /api/stats as token and returns the report (nil
// when the broker refused).
func readStats(t *testing.T, addr, token string, q url.Values) *messages.StatsReport {
	t.Helper()
	code, body := staffHTTP(t, addr, token, "GET", "/api/stats?"+q.Encode(), "")
	if code != http.StatusOK {
		return nil
	}
	r := &messages.StatsReport{}
	if err := protoIn.Unmarshal([]byte(body), r); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return r
}

// reportsComment is the comment the visitor of TestWebConsoleReports
// leaves: markup that must show as text.
const reportsComment = "<b>x</b> quick & kind"

// TestWebConsoleReports: a real chat (a visitor asks, Alice accepts,
// writes and closes, the visitor rates it good with a comment holding
// markup) shows on the Reports tab: to Dana (reports.view) everything,
// with every department to choose from, the bars of the chart and the
// comment as text; to Sam, Sales' supervisor, Sales and its agents
// only; to Alice, a plain agent, only her own figures (no department to
// choose, no one else to pick); to Carmen her own, without Alice's
// rating; and the CSV downloads.
func TestWebConsoleReports(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	// Sam supervises Sales (and may list his colleagues: chats.forward).
	mustAdmin(t, addr, "PUT", "/admin/roles/lead", map[string]any{"name": "Lead", "permissions": []actors.Permission{
		actors.PermLiveChat, actors.PermViewChats, actors.PermSupervise, actors.PermForward}})
	mustAdmin(t, addr, "PUT", "/admin/agents/sam", map[string]any{"login": "sam@demo", "password": "sam-demo-pw",
		"display_name": "Sam", "role": "lead", "languages": []string{"en"}, "max_chats": 1})
	mustAdmin(t, addr, "PUT", "/admin/departments/sales", map[string]any{"name": "Sales", "chat_enabled": true, "supervisors": []string{"sam"}})
	alice, aw := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	chat, v, _ := historyChat(t, addr, alice, "sales", "Where is my order?", "", false)
	send(t, alice, chat, "r-1", "It ships today.")
	mustCall(t, alice, &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: chat}}})
	mustCall(t, v, &messages.Envelope{Body: &messages.Envelope_RateChat{RateChat: &messages.RateChat{
		ChatId: chat, Score: messages.RatingScore_RATING_SCORE_GOOD, Comment: reportsComment}}})
	// The statistics follow the events in the background.
	eventually(t, "Alice's rating in her figures", func() bool {
		r := readStats(t, addr, aw.GetSessionToken(), url.Values{"agent": {"alice"}, "period": {"today"}})
		return r != nil && r.GetTotal().GetRatedGood() == 1 && len(r.GetComments()) == 1
	})
	base := "http://" + addr

	// Dana: everything, and every department to choose.
	dana := openReports(t, base, "dana@demo", "dana-demo-pw")
	if got := selectValues(dana, "#reports-department"); got != ",sales,support" {
		t.Fatalf("Dana's departments = %q, want all of them", got)
	}
	wantFigures(t, dana, "Dana's", map[string]string{"requested": "1", "assigned": "1", "closed": "1", "rated_good": "1", "rated_bad": "0", "good_share": "100 %", "staff_messages": "1"})
	for _, key := range []string{"requested", "assigned"} {
		if n := eval[int](dana, fmt.Sprintf(`document.querySelectorAll('#reports-charts svg rect.bar[data-key=%q]').length`, key)); n != 1 {
			t.Errorf("%d bars of %s in the chart, want 1", n, key)
		}
	}
	if n := eval[int](dana, `document.querySelectorAll('#reports-charts svg').length`); n != 3 {
		t.Errorf("%d charts, want 3", n)
	}
	wantComment(t, dana, chat)
	dana.screenshot("console-reports")
	// A range of dates includes its last day: today to today is today.
	eval[bool](dana, `(() => { const today = new Date().toLocaleDateString('sv'); const p = document.querySelector('#reports-period');
		p.value = 'range'; p.dispatchEvent(new Event('change'));
		for (const id of ['#reports-from', '#reports-to']) { const d = document.querySelector(id); d.value = today; d.dispatchEvent(new Event('change')); }
		return true; })()`)
	dana.wait("the range's report", `document.querySelector('#reports-title').textContent === 'All departments: ' +
		new Intl.DateTimeFormat([], { dateStyle: 'medium' }).format(new Date()) && !document.querySelector('#view-reports').hasAttribute('aria-busy')`)
	wantFigures(t, dana, "Today's", map[string]string{"requested": "1", "rated_good": "1"})
	// A department's figures: Support had no chat, and its agents to pick.
	eval[bool](dana, `(() => { const s = document.querySelector('#reports-department'); s.value = 'support'; s.dispatchEvent(new Event('change')); return true; })()`)
	dana.wait("Support's report", `document.querySelector('#reports-title').dataset.department === 'support' && !document.querySelector('#view-reports').hasAttribute('aria-busy')`)
	wantFigures(t, dana, "Support's", map[string]string{"requested": "0"})
	if got := selectValues(dana, "#reports-agent"); !strings.Contains(got, "bob") || strings.Contains(got, "alice") {
		t.Errorf("Support's agents = %q, want Bob and not Alice", got)
	}
	// The CSV: fetched with the token in a header, saved from a blob: URL.
	dana.click("#reports-csv")
	dana.wait("the CSV", `document.querySelector('#reports-csv').href.startsWith('blob:')`)
	if e := dana.text("#reports-error"); e != "" {
		t.Errorf("the CSV download: %s", e)
	}

	// Alice, a plain agent: her own figures, no one else's to choose.
	ap := openReports(t, base, "alice@demo", "alice-demo-pw")
	wantOwnPage(t, ap, "alice", "Alice")
	wantFigures(t, ap, "Alice's", map[string]string{"assigned": "1", "rated_good": "1", "good_share": "100 %"})
	wantComment(t, ap, chat)

	// Sam: Sales (the only department he may see) and its agents.
	sp := openReports(t, base, "sam@demo", "sam-demo-pw")
	if got := selectValues(sp, "#reports-department"); got != "sales" {
		t.Errorf("Sam's departments = %q, want only sales", got)
	}
	if got := selectValues(sp, "#reports-agent"); got != ",sam,alice,carmen" {
		t.Errorf("Sam may pick %q, want Sales and its agents, himself first", got)
	}
	wantFigures(t, sp, "Sales'", map[string]string{"requested": "1", "rated_good": "1"})
	wantComment(t, sp, chat)

	// Carmen, a plain agent: her own figures, without Alice's rating.
	cp := openReports(t, base, "carmen@demo", "carmen-demo-pw")
	wantOwnPage(t, cp, "carmen", "Carmen")
	wantFigures(t, cp, "Carmen's", map[string]string{"rated_good": "0"})
	if n := eval[int](cp, `document.querySelectorAll('#reports-comments li.comment').length`); n != 0 {
		t.Errorf("Carmen sees %d comments, want none", n)
	}
}

// openReports logs in to the console and opens the Reports tab.
func openReports(t *testing.T, base, login, password string) *page {
	t.Helper()
	p := consoleLogin(t, base, login, password)
	p.click("#tab-reports")
	p.wait(login+"'s report", `document.querySelector('#reports-figures td[data-figure=requested]') && !document.querySelector('#view-reports').hasAttribute('aria-busy')`)
	return p
}

// selectValues lists the values a select offers ("" when there is none).
func selectValues(p *page, sel string) string {
	p.t.Helper()
	return eval[string](p, fmt.Sprintf(`[...(document.querySelector(%q) || {options: []}).options].map((o) => o.value).join(",")`, sel))
}

// wantFigures checks the figures the Reports table shows.
func wantFigures(t *testing.T, p *page, whose string, want map[string]string) {
	t.Helper()
	for key, w := range want {
		if got := p.text(fmt.Sprintf(`#reports-figures td[data-figure=%q]`, key)); got != w {
			t.Errorf("%s %s = %q, want %q", whose, key, got, w)
		}
	}
}

// wantComment checks the chat's comment shows, as text.
func wantComment(t *testing.T, p *page, chat string) {
	t.Helper()
	if got := p.text(fmt.Sprintf(`#reports-comments li[data-chat=%q] .text`, chat)); got != reportsComment {
		t.Errorf("the comment = %q, want %q as text", got, reportsComment)
	}
	if eval[bool](p, `!!document.querySelector('#reports-comments b')`) {
		t.Error("the comment's markup was rendered")
	}
}

// wantOwnPage checks a plain agent's page: no department to choose, only
// themselves to pick, and their report.
func wantOwnPage(t *testing.T, p *page, id, name string) {
	t.Helper()
	if eval[bool](p, `!!document.querySelector('#reports-department')`) {
		t.Errorf("%s is offered departments", name)
	}
	if got := selectValues(p, "#reports-agent"); got != id {
		t.Errorf("%s may pick %q, want only themselves", name, got)
	}
	if got := p.text("#reports-title"); !strings.HasPrefix(got, name+":") || eval[string](p, `document.querySelector('#reports-title').dataset.agent`) != id {
		t.Errorf("%s's report is %q", name, got)
	}
}
