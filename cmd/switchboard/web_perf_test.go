package main

import (
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// BenchmarkWebConsoleAppend: an agent's console with 20 chats open side by
// side, 1,000 lines each, gets one more visitor line per iteration. It
// reports the time the console takes to handle a pushed line (decode,
// append to its pane, update the unread count), measured in the browser
// (switchboardStats.renderMs), and how long the 20,000 lines took to load
// at login (s/load-20k-lines, of which s/load-js in the console's code).
// With REPLAY_PROBE=1 it also logs how long a Go client takes to get the
// same replay (what the broker's side costs).
//
//	go test -run '^$' -bench BenchmarkWebConsoleAppend -benchtime 100x ./cmd/switchboard
func BenchmarkWebConsoleAppend(b *testing.B) {
	const chats, lines = 20, 1000
	m := startBroker(b, b.TempDir())
	mustAdmin(b, m.Addr(), "PUT", "/admin/agents/perf", map[string]any{"login": "perf@demo", "password": "perf-demo-pw",
		"display_name": "Perf", "departments": []string{"sales"}, "languages": []string{"en"}, "chat_agent": true,
		"max_chats": chats, "auto_accept": true})
	agent, _ := newAgent(b, m.Addr(), "perf@demo", "perf-demo-pw", true)
	visitors := make([]*gateway.Client, chats)
	ids := make([]string, chats)
	for i := range visitors {
		v, _ := newVisitor(b, m.Addr(), true)
		env, err := v.Call(ctxT(b), &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{
			Department: "sales", Language: "en", Name: fmt.Sprintf("Visitor %d", i)}}})
		if err != nil {
			b.Fatal(err)
		}
		visitors[i], ids[i] = v, mustChatID(b, env)
	}
	eventually(b, "20 chats assigned", func() bool {
		env, err := agent.Recv(ctxT(b))
		return err == nil && env.GetAgentState().GetActiveChats() == chats
	})
	agent.CloseNow()
	var wg sync.WaitGroup
	for i, v := range visitors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range lines {
				if _, err := v.Call(ctxT(b), &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{
					ChatId: ids[i], Text: fmt.Sprintf("line %d of chat %d: some text of the length of a real chat line", n, i)}}}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()

	if os.Getenv("REPLAY_PROBE") != "" {
		t0 := time.Now()
		probe := dial(b, m.Addr(), "agent", true)
		if _, err := probe.Hello(ctxT(b), &messages.Hello{Login: "perf@demo", Password: "perf-demo-pw"}); err != nil {
			b.Fatal(err)
		}
		n := 0
		for n < chats*lines {
			env, err := probe.Recv(ctxT(b))
			if err != nil {
				b.Fatal(err)
			}
			if env.GetEvent().GetMessage() != nil {
				n++
			}
		}
		b.Logf("a Go client got the 20,000 lines in %v", time.Since(t0))
	}
	p := newPage(b)
	start := time.Now()
	p.navigate("http://" + m.Addr() + "/")
	p.typeIn("#login", "perf@demo", false)
	p.typeIn("#password", "perf-demo-pw", true)
	// (Polls a counter: querying 20,000 nodes every few milliseconds would
	// slow what it measures.) Each chat holds created, assigned and its lines.
	p.waitLong("20,000 lines", fmt.Sprintf(`window.switchboardStats && window.switchboardStats.events >= %d`, chats*(lines+2)), 3*time.Minute)
	loaded := time.Since(start)
	p.wait("the lines in the panes", fmt.Sprintf(`document.querySelectorAll(".pane .transcript .line.message").length === %d`, chats*lines))
	if n := eval[int](p, `document.querySelectorAll("#chat-list .badge:not([hidden])").length`); n != 0 {
		b.Fatalf("%d chats show unread lines after login: the history counted as news", n)
	}
	loadJS := eval[float64](p, `window.switchboardStats.totalMs`) / 1000
	eval[bool](p, `(window.switchboardStats.renderMs = [], true)`)

	b.ResetTimer()
	for i := range b.N {
		text := fmt.Sprintf("timed line %d", i)
		send(b, visitors[i%chats], ids[i%chats], "", text)
		p.wait("the timed line", fmt.Sprintf(`document.querySelector(%q).lastElementChild.textContent.includes(%q)`,
			paneSel(ids[i%chats])+" .transcript", text))
	}
	b.StopTimer()
	ms := eval[[]float64](p, `window.switchboardStats.renderMs`)
	slices.Sort(ms)
	if len(ms) == 0 {
		b.Fatal("no timings")
	}
	b.ReportMetric(ms[len(ms)/2], "ms/append-median")
	b.ReportMetric(ms[len(ms)*99/100], "ms/append-p99")
	b.ReportMetric(loaded.Seconds(), "s/load-20k-lines")
	b.ReportMetric(loadJS, "s/load-js")
	p.screenshot("console-20-chats")
}
