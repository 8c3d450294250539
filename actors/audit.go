package actors

import (
	"unicode/utf8"

	"github.com/switchboard-chat/switchboard/messages"
)

// What an audit entry's fields hold at most, in bytes: whatever a client
// sent (a URL path, a login, an error text that quotes its input), an
// entry stays small. AuditDetailMax is the detail's; the others' is
// AuditFieldMax.
const (
	AuditFieldMax  = 256
	AuditDetailMax = 1024
)

// capAudit cuts every text field of e to its bound: the one place where
// an entry's size is decided.
func capAudit(e *messages.AuditEntry) {
	e.Kind = clip(e.GetKind(), AuditFieldMax)
	e.Actor = clip(e.GetActor(), AuditFieldMax)
	e.Address = clip(e.GetAddress(), AuditFieldMax)
	e.Subject = clip(e.GetSubject(), AuditFieldMax)
	e.Detail = clip(e.GetDetail(), AuditDetailMax)
}

// clip cuts s to at most max bytes on a character boundary, marking the
// cut with "…".
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const mark = "…"
	cut := max - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
