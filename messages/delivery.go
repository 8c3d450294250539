package messages

import "strconv"

// The delivery outbox's event types (issue 19): what a webhook's body
// names as its type, what an endpoint's event filter lists. One place
// for the mapping from chat events, used where deliveries are made
// (persistence's delivery round) and where filters are checked (actors).

// The event types.
const (
	EventChatRequested   = "chat.requested"
	EventChatQueued      = "chat.queued"
	EventChatAssigned    = "chat.assigned"
	EventChatTransferred = "chat.transferred"
	EventChatClosed      = "chat.closed"
	EventChatReopened    = "chat.reopened"
	EventChatMessage     = "chat.message"
	EventChatAttachment  = "chat.attachment"
	EventChatRated       = "chat.rated"
	EventChatMember      = "chat.member"
	EventChatDelivered   = "chat.delivered"
	EventOfflineMessage  = "offline.message"
	// EventWebhookTest is the test event of POST /admin/webhooks/{id}/test.
	EventWebhookTest = "webhook.test"
)

// WebhookEventTypes are the types an endpoint's filter may name.
var WebhookEventTypes = []string{EventChatRequested, EventChatQueued, EventChatAssigned, EventChatTransferred,
	EventChatClosed, EventChatReopened, EventChatMessage, EventChatAttachment, EventChatRated, EventChatMember,
	EventOfflineMessage}

// DeliveryType is the event type of a chat event, "" for events that are
// never delivered (tags, emails, renames, status changes: staff's
// bookkeeping).
func DeliveryType(ev *ChatEvent) string {
	switch ev.GetKind().(type) {
	case *ChatEvent_Created:
		return EventChatRequested
	case *ChatEvent_Requeued:
		return EventChatQueued
	case *ChatEvent_Assigned:
		return EventChatAssigned
	case *ChatEvent_Transferred:
		return EventChatTransferred
	case *ChatEvent_Closed:
		return EventChatClosed
	case *ChatEvent_Reopened:
		return EventChatReopened
	case *ChatEvent_Message:
		return EventChatMessage
	case *ChatEvent_Attachment:
		return EventChatAttachment
	case *ChatEvent_Rated:
		return EventChatRated
	case *ChatEvent_Member:
		return EventChatMember
	case *ChatEvent_Delivered:
		return EventChatDelivered
	}
	return ""
}

// DeliveryID is a chat event's delivery id, the same for every target
// and every try: receivers deduplicate by it.
func DeliveryID(chatID string, seq uint64) string {
	return chatID + "/" + strconv.FormatUint(seq, 10)
}

// OfflineDeliveryID is an offline message's delivery id.
func OfflineDeliveryID(id string) string { return "offline/" + id }

// WebhookTarget is the delivery target of webhook endpoint id.
func WebhookTarget(id string) string { return "hook/" + id }

// ChannelTarget is the delivery target of channel id.
func ChannelTarget(id string) string { return "channel/" + id }

// MainLiveChat is the default live chat's id: external, always there (made
// up when none is stored, so a data folder from before live chats reads
// the same), never deleted nor made internal. Chats and departments that
// name no live chat are its.
const MainLiveChat = "main"

// LiveChatOr is live chat id, MainLiveChat when empty: the one place of
// that default.
func LiveChatOr(id string) string {
	if id == "" {
		return MainLiveChat
	}
	return id
}
