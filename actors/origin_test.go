package actors

import "testing"

func TestValidOrigin(t *testing.T) {
	for _, o := range []string{"https://shop.example.com", "http://localhost:8081", "https://xn--exmple-cua.com",
		"http://127.0.0.1:9000", "http://[::1]:8080", "https://a-b.c-d.example"} {
		if !ValidOrigin(o) {
			t.Errorf("%q refused", o)
		}
	}
	for _, o := range []string{"", "shop.example.com", "https://shop.example.com/", "https://Shop.example.com",
		"https://a.com<x>", "https://exämple.com", "https://*.example.com", "https://a.com; script-src *",
		"https://a.com 'unsafe-inline'", "https://a.com,b.com", "javascript://a.com", "https://user@a.com",
		"https://a.com?x", "https://a.com#x", "https://-a.com", "https://a.com:99999x", "ftp://a.com", "https://"} {
		if ValidOrigin(o) {
			t.Errorf("%q accepted", o)
		}
	}
}
