package netguard

import (
	"errors"
	"net"
	"testing"
)

// TestPrivate: the addresses outbound calls refuse, and the URLs.
func TestPrivate(t *testing.T) {
	for _, c := range []struct {
		ip      string
		private bool
	}{{"127.0.0.1", true}, {"10.1.2.3", true}, {"192.168.0.1", true}, {"169.254.169.254", true}, {"100.64.0.1", true},
		{"100.127.255.254", true}, {"0.0.0.0", true}, {"::1", true}, {"fe80::1", true}, {"fd00::1", true}, {"64:ff9b::a00:1", true},
		{"::ffff:127.0.0.1", true}, {"100.128.0.1", false}, {"8.8.8.8", false}, {"2001:4860:4860::8888", false}} {
		if got := Private(net.ParseIP(c.ip)); got != c.private {
			t.Errorf("%s: private %v", c.ip, got)
		}
		if err := RefusePrivate("tcp", net.JoinHostPort(c.ip, "443"), nil); (err != nil) != c.private || err != nil && !errors.Is(err, ErrPrivateAddress) {
			t.Errorf("%s: dial %v", c.ip, err)
		}
	}
	for _, c := range []struct {
		url          string
		allowPrivate bool
		ok           bool
	}{{"https://graph.facebook.com/v21.0", false, true}, {"http://graph.facebook.com", false, false}, {"http://127.0.0.1:8080", true, true},
		{"ftp://x", true, false}, {"/relative", true, false}, {"https://", false, false}} {
		if err := CheckURL(c.url, c.allowPrivate); (err == nil) != c.ok {
			t.Errorf("%s (allow private %v): %v", c.url, c.allowPrivate, err)
		}
	}
}
