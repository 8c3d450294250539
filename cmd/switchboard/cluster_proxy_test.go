package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-chat/switchboard/gateway"
)

// A standby names the client to the owner by the gateway's own rule, in
// the configured header only: what a client sends in those headers itself
// is dropped, and a trusted load balancer's word is kept.
func TestStandbyNamesTheClient(t *testing.T) {
	type seen struct{ header, xff, proto, host string }
	got := make(chan seen, 1)
	for _, tc := range []struct {
		name, header, peer string
		in                 map[string]string
		want               seen
	}{
		{"a client spoofing its address", "X-Forwarded-For", "203.0.113.5:4000",
			map[string]string{"X-Forwarded-For": "1.2.3.4", "X-Forwarded-Proto": "https"},
			seen{xff: "203.0.113.5", proto: "http", host: "chat.example"}},
		{"through a trusted load balancer", "X-Forwarded-For", "10.0.0.2:4000",
			map[string]string{"X-Forwarded-For": "1.2.3.4, 198.51.100.7", "X-Forwarded-Proto": "https"},
			seen{xff: "198.51.100.7", proto: "https", host: "chat.example"}},
		{"a custom header spoofed", "X-Real-IP", "203.0.113.5:4000",
			map[string]string{"X-Real-IP": "1.2.3.4"},
			seen{header: "203.0.113.5", proto: "http", host: "chat.example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			owner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s := seen{xff: r.Header.Get("X-Forwarded-For"), proto: r.Header.Get("X-Forwarded-Proto"), host: r.Host}
				if tc.header != "X-Forwarded-For" {
					s.header = r.Header.Get(tc.header)
				}
				got <- s
			}))
			defer owner.Close()
			fwd, err := gateway.NewForwarding([]string{"10.0.0.0/8"}, tc.header)
			if err != nil {
				t.Fatal(err)
			}
			p := newOwnerProxy(nil, fwd, testLogger(t))
			u, _ := url.Parse(owner.URL)
			p.owner, p.target = "n1", u
			req := httptest.NewRequest("GET", "http://chat.example/readyz", nil)
			req.RemoteAddr = tc.peer
			for k, v := range tc.in {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			p.ServeHTTP(rec, req)
			if s := <-got; s != tc.want {
				t.Fatalf("the owner saw %+v, want %+v", s, tc.want)
			}
		})
	}
}

// A websocket a standby carries to the owner closes when the standby
// stops following that owner; a request a standby forwarded already is
// not forwarded again (a loop).
func TestStandbyDropsCarriedSocketsOnOwnerChange(t *testing.T) {
	owner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			if _, _, err := c.Read(r.Context()); err != nil {
				return
			}
		}
	}))
	defer owner.Close()
	fwd, err := gateway.NewForwarding(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	p := newOwnerProxy(nil, fwd, testLogger(t))
	u, _ := url.Parse(owner.URL)
	p.owner, p.target = "n1", u
	front := httptest.NewServer(p)
	defer front.Close()

	ws, _, err := websocket.Dial(ctxT(t), "ws"+strings.TrimPrefix(front.URL, "http")+"/ws/visitor", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	read := make(chan error, 1)
	go func() {
		_, _, err := ws.Read(context.Background())
		read <- err
	}()
	p.close() // this standby takes the actors over, or stops
	select {
	case err := <-read:
		if err == nil {
			t.Fatal("read a message")
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the carried websocket is still open after the owner changed")
	}

	p.owner, p.target = "n1", u
	req, _ := http.NewRequest("GET", front.URL+"/readyz", nil)
	req.Header.Set(forwardedBy, "1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a forwarded request forwarded again: %d", res.StatusCode)
	}
}
