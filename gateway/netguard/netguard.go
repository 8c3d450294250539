// Package netguard is the one rule for the broker's outbound calls to
// addresses an admin sets or an outside answer names (webhooks, API
// channels' callbacks, the WhatsApp Graph API and its media URLs): unless
// private addresses are allowed (tests, an endpoint on the broker's own
// network), they go over https only, and never to loopback, private,
// link-local, shared (100.64.0.0/10), NAT64 (64:ff9b::/96), unspecified
// or multicast addresses. The address is checked as it is dialled, after
// name resolution, so a name that resolves to such an address is refused
// too.
package netguard

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"
)

// ErrPrivateAddress: the URL's host is (or resolves to) an address the
// broker does not call.
var ErrPrivateAddress = errors.New("the address is loopback, private or link-local")

// ErrInsecureURL: a URL that is not https while private addresses are
// not allowed.
var ErrInsecureURL = errors.New("the URL must be https")

var refused = []*net.IPNet{mustCIDR("100.64.0.0/10"), mustCIDR("64:ff9b::/96")}

func mustCIDR(s string) *net.IPNet {
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	return n
}

// Private reports whether ip is an address outbound calls do not go to.
func Private(ip net.IP) bool {
	if ip == nil || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() {
		return true
	}
	for _, n := range refused {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// RefusePrivate is a net.Dialer's Control: it refuses to connect to a
// Private address.
func RefusePrivate(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	if Private(net.ParseIP(host)) {
		return fmt.Errorf("%w: %s", ErrPrivateAddress, host)
	}
	return nil
}

// Dialer is a dialer that refuses Private addresses unless allowPrivate.
func Dialer(timeout time.Duration, allowPrivate bool) *net.Dialer {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = RefusePrivate
	}
	return d
}

// Transport is an http.Transport through Dialer, without a proxy (a proxy
// would hide the address checked).
func Transport(timeout time.Duration, allowPrivate bool, maxConnsPerHost int) *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           Dialer(timeout, allowPrivate).DialContext,
		MaxConnsPerHost:       maxConnsPerHost,
		MaxIdleConnsPerHost:   maxConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		ForceAttemptHTTP2:     true,
	}
}

// CheckURL refuses a URL that is not https (or, when allowPrivate, http).
func CheckURL(raw string, allowPrivate bool) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "":
		return fmt.Errorf("%w: not an absolute URL", ErrInsecureURL)
	case u.Scheme == "https", u.Scheme == "http" && allowPrivate:
		return nil
	}
	return fmt.Errorf("%w: %s://%s", ErrInsecureURL, u.Scheme, u.Host)
}
