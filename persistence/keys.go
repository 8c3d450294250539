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
//	d/email                                  the SMTP settings and email templates (EmailSettings)
//	m/<mail id>                              an email in the outbox, not sent yet (OutboxMail)
//	om/<offline message id>                  a visitor's offline message (OfflineMessage)
//	s/<name>                                 a secret (raw bytes)
//	u/<unix ns, 8 bytes BE><n, 4 bytes BE>    an audit entry (AuditEntry)
//	r/<session id>                           a logged-out session (its expiry, unix ms, 8 bytes BE)
//	x/<n, 8 bytes BE>                        the history feed: a chat id whose log grew (written with the events)
//	h/meta                                   the history index's version (absent: rebuild it from the logs)
//	h/c/<chat id>                            a chat's history entry (ChatHistoryEntry)
//	h/p/<facet>\x00<pos>                     a posting: the chat at pos has facet (see history_fold.go)
//	se/<n, 8 bytes BE>                       a statistics event (StatsEvent), numbered at commit
//	h/s/n                                    the next statistics event to fold (8 bytes BE)
//	h/s/b/<dim>\x00<minute, 4 bytes BE>      a 15-minute statistics bucket (StatsBucket) of dim
//	h/s/H/<dim>\x00<minute, 4 bytes BE>      the hour's sum of those buckets (the hour's first minute)
//	h/s/a/<agent id>                         where an agent's activity stands (StatsAgentState)
//	h/s/c/<dim>\x00<unix ms, 8 bytes BE><chat id>  a rating's comment (StatsComment)
//	d/livechat/<id>                          a live chat (LiveChat)
//	d/channel/<id>                           a channel (Channel)
//	d/hook/<id>                              a webhook endpoint
//	w/<target>\x00<conversation>\x00<seq, 8 bytes BE>  a delivery waiting in the outbox (Delivery)
//	wr/<target>\x00<outside id>              what a delivered message's outside id refers to (DeliveryRef)
//	wl/<target>                              a target's last delivery tries (WebhookLog)
//	rj/<n, 8 bytes BE>                       the routing journal: an input a queue handled (RoutingInput), numbered at commit
//	c/<chat id>/r/<n, 8 bytes BE><i, 2 bytes BE>  a chat's routing decision (RoutingDecision): the i-th made on journal input n
//
// The statistics (h/s/, stats_*.go) are derived like the history index,
// in the same batches, and dropped and rebuilt with it; their events
// (se/) are kept. A dim is "*" (everything), "d=<department>" or
// "a=<agent id>"; a bucket's minute is its start in minutes since the
// Unix epoch.
//
// A history position (pos) is the chat's start time, unix ms inverted
// (^ms, 8 bytes BE: newest first), then its id.
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
	prefixFeed   = "x/"
	prefixStatEv = "se/"
	prefixStats  = "h/s/"
	prefixBucket = "h/s/b/"
	prefixHourly = "h/s/H/"
	prefixStatAg = "h/s/a/"
	prefixRateC  = "h/s/c/"
	prefixHist   = "h/"
	prefixEntry  = "h/c/"
	prefixPost   = "h/p/"
	prefixMail   = "m/"
	// Not under o/ (the open-chats index): om/ sorts apart from it.
	prefixOffline = "om/"
	// Issue 19: live chats, channels, webhooks and the delivery outbox.
	prefixLiveChat = "d/livechat/"
	prefixChannel  = "d/channel/"
	prefixHook     = "d/hook/"
	prefixDelivery = "w/"
	prefixDelRef   = "wr/"
	prefixDelLog   = "wl/"
	// Issue 20: the routing journal.
	prefixJournal = "rj/"
	// prefixReplica: the replicated state machine's own keys
	// (replicate_apply.go): its applied index, counters and fences.
	prefixReplica = "z/"
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

var historyMetaKey = []byte("h/meta")

// feedKey is the n-th entry of the history feed.
func feedKey(n uint64) []byte { return binary.BigEndian.AppendUint64([]byte(prefixFeed), n) }

func entryKey(chatID string) []byte { return []byte(prefixEntry + chatID) }

func statsEventKey(n uint64) []byte { return binary.BigEndian.AppendUint64([]byte(prefixStatEv), n) }

var statsCursorKey = []byte(prefixStats + "n")

// bucketPrefix is the prefix of dim's 15-minute buckets, or of its
// hourly sums.
func bucketPrefix(dim string, hourly bool) []byte {
	if hourly {
		return []byte(prefixHourly + dim + "\x00")
	}
	return []byte(prefixBucket + dim + "\x00")
}

// bucketKey is dim's bucket (or hourly sum) that starts at minute.
func bucketKey(dim string, minute uint32, hourly bool) []byte {
	return binary.BigEndian.AppendUint32(bucketPrefix(dim, hourly), minute)
}

func statsAgentKey(agentID string) []byte { return []byte(prefixStatAg + agentID) }

// commentPrefix is the prefix of dim's rating comments.
func commentPrefix(dim string) []byte { return []byte(prefixRateC + dim + "\x00") }

func commentKey(dim string, atMs int64, chatID string) []byte {
	return append(binary.BigEndian.AppendUint64(commentPrefix(dim), uint64(atMs)), chatID...)
}

func journalKey(n uint64) []byte { return binary.BigEndian.AppendUint64([]byte(prefixJournal), n) }

// routingPrefix is every routing decision of one chat.
func routingPrefix(chatID string) []byte { return []byte(prefixChat + chatID + "/r/") }

// chatIDOf returns the chat id of a key under c/ ("" when it is not one).
func chatIDOf(k []byte) string {
	s := string(k)
	if !strings.HasPrefix(s, prefixChat) {
		return ""
	}
	id, _, ok := strings.Cut(s[len(prefixChat):], "/")
	if !ok {
		return ""
	}
	return id
}

// historyPos is a chat's position in every posting list: newest first,
// then by id.
func historyPos(startedMs int64, chatID string) []byte {
	return append(binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(chatID)), ^uint64(startedMs)), chatID...)
}

// posTimeBound is the smallest position of chats started at ms.
func posTimeBound(ms int64) []byte { return binary.BigEndian.AppendUint64(nil, ^uint64(ms)) }

// posChat splits a position into its start time and chat id.
func posChat(pos []byte) (int64, string, bool) {
	if len(pos) <= 8 {
		return 0, "", false
	}
	return int64(^binary.BigEndian.Uint64(pos)), string(pos[8:]), true
}

// postingPrefix is the list of one facet: postingPrefix(f) + pos.
func postingPrefix(facet string) []byte {
	k := make([]byte, 0, len(prefixPost)+len(facet)+1)
	return append(append(append(k, prefixPost...), facet...), 0)
}

func postingKey(facet string, pos []byte) []byte { return append(postingPrefix(facet), pos...) }

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
func liveChatKey(id string) []byte   { return []byte(prefixLiveChat + id) }

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

// deliveryRefKey is where the outside id ref of a message delivered to
// target is kept.
func deliveryRefKey(target, ref string) []byte {
	return []byte(prefixDelRef + target + "\x00" + ref)
}

func hookKey(id string) []byte    { return []byte(prefixHook + id) }
func channelKey(id string) []byte { return []byte(prefixChannel + id) }

// deliveryScope is every delivery of target waiting in the outbox.
func deliveryScope(target string) []byte { return []byte(prefixDelivery + target + "\x00") }

// deliveryKey is where a delivery waits: by target, then conversation,
// then sequence, so that a conversation's deliveries scan in order.
func deliveryKey(target, conversation string, seq uint64) []byte {
	k := make([]byte, 0, len(prefixDelivery)+len(target)+len(conversation)+10)
	k = append(k, prefixDelivery...)
	k = append(k, target...)
	k = append(k, 0)
	k = append(k, conversation...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, seq)
}

// deliveryTargetOf is the target of a delivery key ("" if k is none).
func deliveryTargetOf(k []byte) string {
	rest := strings.TrimPrefix(string(k), prefixDelivery)
	if len(rest) == len(k) {
		return ""
	}
	t, _, ok := strings.Cut(rest, "\x00")
	if !ok {
		return ""
	}
	return t
}

func deliveryLogKey(target string) []byte { return []byte(prefixDelLog + target) }
