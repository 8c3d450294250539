package gateway

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Forwarding is who a request comes from, behind reverse proxies: the
// one rule that limits, allow-lists, the audit log and a cluster
// standby's forwarding (cmd/switchboard) all use.
type Forwarding struct {
	proxies []netip.Prefix
	header  string
}

// NewForwarding trusts the proxies in the CIDR ranges given, which name
// the client in header (X-Forwarded-For when empty).
func NewForwarding(trusted []string, header string) (*Forwarding, error) {
	proxies, err := parsePrefixes(trusted)
	if err != nil {
		return nil, fmt.Errorf("gateway: TrustedProxies: %w", err)
	}
	if header == "" {
		header = DefaultForwardedHeader
	}
	return &Forwarding{proxies: proxies, header: header}, nil
}

// Header is the header trusted proxies name the client in.
func (f *Forwarding) Header() string { return f.header }

// ClientAddr is the peer's IP, or, when the peer is a trusted proxy, the
// last address in the forwarded header that is not a trusted proxy.
func (f *Forwarding) ClientAddr(r *http.Request) string {
	host := f.Peer(r)
	if !f.Trusted(host) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values(f.header), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if hop == "" {
			continue
		}
		if _, err := netip.ParseAddr(hop); err != nil {
			break // not an address: trust nothing further left
		}
		if !f.Trusted(hop) {
			return hop
		}
		host = hop
	}
	return host
}

// Peer is the IP of the connection's other end.
func (f *Forwarding) Peer(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Trusted reports whether addr is a trusted proxy's.
func (f *Forwarding) Trusted(addr string) bool {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	for _, p := range f.proxies {
		if p.Contains(ip.Unmap()) {
			return true
		}
	}
	return false
}
