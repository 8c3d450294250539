package persistence

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// Every key Switchboard writes is built here, so that the layout lives in one
// place with its own tests.
//
//	c/<chat id>/e/<seq, 8 bytes big-endian>  a chat event (ChatEvent)
//	o/<chat id>                              the open-chats index (OpenChat)
//	a/<agent id>                             an agent snapshot (AgentSnapshot)
//	d/dep/<id>                               a department (Department)
//	d/lang/<code>                            a language (Language)
//	d/agent/<id>                             a staff account (Agent)
//	d/login/<login>                          login -> agent id
//	d/role/<id>                              a custom role (Role)
//	d/settings                               the site-wide settings (Settings)
//	d/signin                                 the directory sign-in settings (SignInSettings)
//	d/email                                  the SMTP settings and email templates (EmailSettings)
//	m/<mail id>                              an email in the outbox, not sent yet (OutboxMail)
//	om/<offline message id>                  a visitor's offline message (OfflineMessage)
//	s/<name>                                 a secret (raw bytes)
//	u/<unix ns, 8 bytes BE><n, 4 bytes BE>    an audit entry (AuditEntry)
//	r/<session id>                           a logged-out session (its expiry, unix ms, 8 bytes BE)
//
// Ids are checked by the callers (actors) to be free of '/' so that one
// chat's prefix never contains another's.
const (
	prefixChat   = "c/"
	prefixOpen   = "o/"
	prefixAgent  = "a/"
	prefixDep    = "d/dep/"
	prefixLang   = "d/lang/"
	prefixStaff  = "d/agent/"
	prefixLogin  = "d/login/"
	prefixRole   = "d/role/"
	prefixSecret = "s/"
	prefixAudit  = "u/"
	prefixRevoke = "r/"
	prefixMail   = "m/"
	// Not under o/ (the open-chats index): om/ sorts apart from it.
	prefixOffline = "om/"
)

func revokedKey(sid string) []byte { return []byte(prefixRevoke + sid) }

func roleKey(id string) []byte { return []byte(prefixRole + id) }

var settingsKey = []byte("d/settings")

var signInKey = []byte("d/signin")

var emailKey = []byte("d/email")

func mailKey(id string) []byte    { return []byte(prefixMail + id) }
func offlineKey(id string) []byte { return []byte(prefixOffline + id) }

// auditKey orders audit entries by time; n tells apart entries of the
// same nanosecond.
func auditKey(at time.Time, n uint32) []byte {
	k := append([]byte(prefixAudit), make([]byte, 12)...)
	binary.BigEndian.PutUint64(k[len(prefixAudit):], uint64(at.UnixNano()))
	binary.BigEndian.PutUint32(k[len(prefixAudit)+8:], n)
	return k
}

func chatEventPrefix(chatID string) []byte {
	return appendChatEventPrefix(make([]byte, 0, len(prefixChat)+len(chatID)+len("/e/")), chatID)
}

// chatEventKey is the prefix and the big-endian seq, in one allocation.
func chatEventKey(chatID string, seq uint64) []byte {
	k := make([]byte, 0, len(prefixChat)+len(chatID)+len("/e/")+8)
	return binary.BigEndian.AppendUint64(appendChatEventPrefix(k, chatID), seq)
}

func appendChatEventPrefix(k []byte, chatID string) []byte {
	k = append(k, prefixChat...)
	k = append(k, chatID...)
	return append(k, "/e/"...)
}

// parseChatEventKey returns the chat id and sequence of an event key.
func parseChatEventKey(k []byte) (string, uint64, error) {
	s := string(k)
	if !strings.HasPrefix(s, prefixChat) || len(s) < len(prefixChat)+3+8 {
		return "", 0, fmt.Errorf("not a chat event key: %q", k)
	}
	body := s[len(prefixChat) : len(s)-8]
	if !strings.HasSuffix(body, "/e/") {
		return "", 0, fmt.Errorf("not a chat event key: %q", k)
	}
	return strings.TrimSuffix(body, "/e/"), binary.BigEndian.Uint64(k[len(k)-8:]), nil
}

func openKey(chatID string) []byte   { return []byte(prefixOpen + chatID) }
func agentSnapKey(id string) []byte  { return []byte(prefixAgent + id) }
func departmentKey(id string) []byte { return []byte(prefixDep + id) }
func languageKey(code string) []byte { return []byte(prefixLang + code) }
func staffKey(id string) []byte      { return []byte(prefixStaff + id) }
func loginKey(login string) []byte   { return []byte(prefixLogin + strings.ToLower(login)) }
func secretKey(name string) []byte   { return []byte(prefixSecret + name) }

// upperBound returns the smallest key greater than every key with prefix p.
func upperBound(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}
