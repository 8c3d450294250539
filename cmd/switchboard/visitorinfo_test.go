package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// visitorContextOf reads a chat's visitor context as the holder of token.
func visitorContextOf(t testing.TB, addr, token, chat string) (int, *messages.VisitorContext, *messages.Error) {
	t.Helper()
	res, data := fileCall(t, "GET", "http://"+addr+"/api/chats/"+chat+"/visitor", token, "", nil)
	if res.StatusCode != http.StatusOK {
		e := &messages.Error{}
		protoIn.Unmarshal(data, e)
		return res.StatusCode, nil, e
	}
	vc := &messages.VisitorContext{}
	if err := protoIn.Unmarshal(data, vc); err != nil {
		t.Fatalf("visitor context %q: %v", data, err)
	}
	return res.StatusCode, vc, nil
}

func reportPage(c *gateway.Client, t testing.TB, url, title, referrer string) (*messages.Envelope, error) {
	return c.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_ReportPage{ReportPage: &messages.ReportPage{Url: url, Title: title, Referrer: referrer}}})
}

func setFields(c *gateway.Client, t testing.TB, fields map[string]string) (*messages.Envelope, error) {
	return c.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_SetVisitorFields{SetVisitorFields: &messages.SetVisitorFields{Fields: fields}}})
}

// TestVisitorContext: the visitor's browser, the pages they report and the
// fields the site sets reach the chat's agent (pushed, and over HTTP), are
// refused when malformed, never reach the visitor or staff who may not
// read the chat, and survive a restart.
func TestVisitorContext(t *testing.T) {
	dir := t.TempDir()
	m := startBroker(t, dir)
	addr := m.Addr()
	v, err := gateway.Dial(ctxT(t), "ws://"+addr+"/ws/visitor", gateway.ClientOptions{JSON: true,
		Header: http.Header{"User-Agent": {"TestBrowser/1.0 (X11)"}, "Accept-Language": {"de-CH,de;q=0.9,en;q=0.8"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer v.CloseNow()
	vw, err := v.Hello(ctxT(t), &messages.Hello{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reportPage(v, t, "https://shop.example/", "Shop", "https://search.example/?q=shoes"); err != nil {
		t.Fatalf("report page: %v", err)
	}
	chat := mustChatID(t, requestChat(t, v, "sales", "en", "Which size?"))
	a, aw := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	awaitOffer(t, a)
	accept(t, a, chat)

	// Pushed to the agent as the visitor moves and the site sets fields.
	if _, err := reportPage(v, t, "https://shop.example/cart", "Your cart", "https://shop.example/"); err != nil {
		t.Fatalf("report page: %v", err)
	}
	if _, err := setFields(v, t, map[string]string{"user_id": "4711", "plan": "pro", "order.number": "A-1"}); err != nil {
		t.Fatalf("set fields: %v", err)
	}
	env, err := a.Await(ctxT(t), func(e *messages.Envelope) bool { return e.GetVisitorInfo().GetContext().GetFields()["plan"] == "pro" })
	if err != nil || env.GetVisitorInfo().GetChatId() != chat || env.GetVisitorInfo().GetContext().GetPage().GetUrl() != "https://shop.example/cart" {
		t.Fatalf("agent's visitor info = %v, %v", env, err)
	}
	check := func(when string) {
		t.Helper()
		code, vc, e := visitorContextOf(t, m.Addr(), aw.GetSessionToken(), chat)
		p := vc.GetPage()
		if code != 200 || vc.GetVisitorId() != vw.GetVisitorId() || p.GetUrl() != "https://shop.example/cart" || p.GetTitle() != "Your cart" ||
			p.GetReferrer() != "https://shop.example/" || len(vc.GetPages()) != 2 || vc.GetPages()[1].GetTitle() != "Shop" ||
			vc.GetUserAgent() != "TestBrowser/1.0 (X11)" || vc.GetLanguage() != "de-CH" || vc.GetFields()["user_id"] != "4711" || len(vc.GetFields()) != 3 {
			t.Fatalf("%s: the agent reads %d %v %v", when, code, vc, e)
		}
	}
	check("live")

	contextRefusals(t, v)
	check("after the refusals")
	contextStaffOnly(t, addr, v, a, vw, chat)

	// Stored: a restart keeps it.
	m.Close()
	m = startBroker(t, dir)
	check("after a restart")
}

// TestVisitorContextRateLimit: at most 30 reports a minute, then a
// temporary RATE_LIMITED.
func TestVisitorContextRateLimit(t *testing.T) {
	m := startBroker(t, t.TempDir())
	v, _ := newVisitor(t, m.Addr(), true)
	for i := range 30 {
		if _, err := reportPage(v, t, fmt.Sprintf("https://shop.example/%d", i), "", ""); err != nil {
			t.Fatalf("report %d: %v", i, err)
		}
	}
	_, err := reportPage(v, t, "https://shop.example/late", "", "")
	var e *messages.Error
	if !errors.As(err, &e) || e.GetCode() != messages.ErrorCode_ERROR_CODE_RATE_LIMITED || !e.GetTemporary() {
		t.Fatalf("the 31st report: %v", err)
	}
}

// contextRefusals: bad input is a typed error naming the field (the
// caller checks that nothing changed).
func contextRefusals(t *testing.T, v *gateway.Client) {
	t.Helper()
	// Bad input: a typed error naming the field, and nothing changes.
	for _, c := range []struct {
		what  string
		call  func() (*messages.Envelope, error)
		field string
	}{
		{"a script address", func() (*messages.Envelope, error) { return reportPage(v, t, "javascript:alert(1)", "x", "") }, "url"},
		{"no address", func() (*messages.Envelope, error) { return reportPage(v, t, "", "x", "") }, "url"},
		{"a long title", func() (*messages.Envelope, error) {
			return reportPage(v, t, "https://shop.example/x", strings.Repeat("t", 600), "")
		}, "title"},
		{"a bad field name", func() (*messages.Envelope, error) { return setFields(v, t, map[string]string{"no spaces": "x"}) }, "fields"},
		{"a long value", func() (*messages.Envelope, error) {
			return setFields(v, t, map[string]string{"k": strings.Repeat("v", 300)})
		}, "fields.k"},
		{"too many fields", func() (*messages.Envelope, error) {
			f := map[string]string{}
			for i := range 18 {
				f[fmt.Sprintf("f%d", i)] = "x"
			}
			return setFields(v, t, f)
		}, "fields"},
	} {
		_, err := c.call()
		var e *messages.Error
		if !errors.As(err, &e) || e.GetField() != c.field {
			t.Errorf("%s: %v; want an error about %s", c.what, err, c.field)
		}
	}

}

// contextStaffOnly: neither the visitor nor staff who may not read the
// chat read the context; an agent cannot report for a visitor; nothing
// of it reaches the visitor's socket.
func contextStaffOnly(t *testing.T, addr string, v, a *gateway.Client, vw *messages.Welcome, chat string) {
	t.Helper()
	// Staff only: not the visitor, not staff who may not read the chat;
	// staff commands cannot report for a visitor.
	if code, _, _ := visitorContextOf(t, addr, vw.GetResumeToken(), chat); code != 401 {
		t.Errorf("the visitor reads their context: %d", code)
	}
	_, bw := newAgent(t, addr, "bob@demo", "bob-demo-pw", false)
	if code, _, _ := visitorContextOf(t, addr, bw.GetSessionToken(), chat); code != 403 {
		t.Errorf("bob reads the context: %d", code)
	}
	if _, err := reportPage(a, t, "https://shop.example/", "", ""); errCode(err) != messages.ErrorCode_ERROR_CODE_FORBIDDEN {
		t.Errorf("an agent reports a page: %v", err)
	}
	// Whatever the visitor was sent came before the answer to a ping.
	if _, err := v.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_Ping{Ping: &messages.Ping{}}}); err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if env, err := v.Await(done, func(e *messages.Envelope) bool { return e.GetVisitorInfo() != nil }); err == nil {
		t.Errorf("the visitor got %v", env)
	}

}
