package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

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
