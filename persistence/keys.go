package persistence

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

// Every key Switchboard writes is built here, so that the layout lives in one
// place with its own tests.
//
//	c/<chat id>/e/<seq, 8 bytes big-endian>  a chat event (ChatEvent)
//	c/<chat id>/f/<file id>/m                an attachment's description (StoredFile)
//	c/<chat id>/f/<file id>/d/<n, 4 bytes BE>  its bytes, in chunks of FileChunkBytes
//	o/<chat id>                              the open-chats index (OpenChat)
//	v/<visitor id>                           a visitor's context (VisitorContext)
//	a/<agent id>                             an agent snapshot (AgentSnapshot)
//	d/dep/<id>                               a department (Department)
//	d/lang/<code>                            a language (Language)
//	d/agent/<id>                             a staff account (Agent)
//	d/login/<login>                          login -> agent id
//	d/role/<id>                              a custom role (Role)
//	d/settings                               the site-wide settings (Settings)
//	d/signin                                 the directory sign-in settings (SignInSettings)
//	d/canned/dep/<id>/<shortcut>             a department's canned reply (CannedReply)
//	d/canned/agent/<id>/<shortcut>           an agent's own canned reply (CannedReply)
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
	prefixCanned = "d/canned/"
	prefixSecret = "s/"
	prefixAudit  = "u/"
	prefixRevoke = "r/"
	prefixVisit  = "v/"
)

// cannedScope is the prefix of one department's canned replies (agentID
// empty), or one agent's own (department empty), or of all of them.
func cannedScope(department, agentID string) []byte {
	switch {
	case department != "":
		return []byte(prefixCanned + "dep/" + department + "/")
	case agentID != "":
		return []byte(prefixCanned + "agent/" + agentID + "/")
	}
	return []byte(prefixCanned)
}

func cannedKey(r *messages.CannedReply) []byte {
	return append(cannedScope(r.GetDepartment(), r.GetAgentId()), r.GetShortcut()...)
}

// ChatPrefix is every key of one chat (its events and its files): deleting
// a chat is one range deletion of [ChatPrefix, upperBound(ChatPrefix)).
func ChatPrefix(chatID string) []byte { return []byte(prefixChat + chatID + "/") }

// fileKeyPrefix is every key of one attachment.
func fileKeyPrefix(chatID, fileID string) []byte {
	return []byte(prefixChat + chatID + "/f/" + fileID + "/")
}

func fileMetaKey(chatID, fileID string) []byte {
	return append(fileKeyPrefix(chatID, fileID), 'm')
}

func fileChunkPrefix(chatID, fileID string) []byte {
	return append(fileKeyPrefix(chatID, fileID), "d/"...)
}

func fileChunkKey(chatID, fileID string, n uint32) []byte {
	return binary.BigEndian.AppendUint32(fileChunkPrefix(chatID, fileID), n)
}

func visitorKey(id string) []byte { return []byte(prefixVisit + id) }

func revokedKey(sid string) []byte { return []byte(prefixRevoke + sid) }

func roleKey(id string) []byte { return []byte(prefixRole + id) }

var settingsKey = []byte("d/settings")

var signInKey = []byte("d/signin")

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
