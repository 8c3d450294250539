package actors

import (
	"net/url"
	"regexp"
	"strings"
)

// originHost is a host as a browser writes it in an origin: a DNS name
// (punycode for others) or an IPv4 address, or an IPv6 one in brackets,
// and an optional port. Nothing that could widen a CSP (spaces, quotes,
// semicolons, wildcards) can pass.
var originHost = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(:[0-9]{1,5})?$`)

// maxWidgetOrigins bounds Settings.widget_origins.
const maxWidgetOrigins = 64

// invalidOrigin returns the first entry of origins that is not a web
// origin (http or https, a host, an optional port, nothing else), or "" when
// all are; a list that is too long reports its first extra entry.
func invalidOrigin(origins []string) string {
	for i, o := range origins {
		if i >= maxWidgetOrigins || !ValidOrigin(o) {
			return o
		}
	}
	return ""
}

// ValidOrigin reports whether o is a web origin as a browser writes it:
// "https://shop.example.com" or "http://localhost:8081", lower case, with
// no path, query, user or fragment.
func ValidOrigin(o string) bool {
	if len(o) > 256 || o != strings.ToLower(o) {
		return false
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !originHost.MatchString(u.Host) || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return false
	}
	return u.Scheme+"://"+u.Host == o
}
