package actors

import "net/netip"

// AddressKey is a client address as the per-address limits count it (the
// gateway's limits and login guard, the queue's share of a line): an IPv6
// address by its /64, a subscriber's usual allocation, since a client that
// holds a /64 could otherwise take a fresh address for every try; an IPv4
// address, or anything that is not an address, as it is.
func AddressKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil || !ip.Unmap().Is6() {
		return addr
	}
	p, _ := ip.Prefix(64)
	return p.String()
}
