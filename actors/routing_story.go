package actors

import (
	"context"
	"fmt"

	"github.com/switchboard-chat/switchboard/messages"
)

// RoutingStory is a chat's routing decisions, oldest first, and, while it
// waits in a line, why it waits now (its queue's live explanation). rec
// is the chat as ChatRecord read it: the caller has checked that whoever
// asks may read it. It waits for the queue's answer (until ctx's
// deadline, or liveWait): for the gateway, not for actors.
func (b *Broker) RoutingStory(ctx context.Context, rec *messages.ChatRecord) (*messages.RoutingStory, error) {
	ds, err := b.store.RoutingDecisions(rec.GetChatId())
	if err != nil {
		return nil, messages.TemporaryErrorf(codeUnavailable, "cannot read the chat's routing decisions now: %v", err)
	}
	story := &messages.RoutingStory{ChatId: rec.GetChatId(), Decisions: ds}
	deps := rec.GetDepartments()
	if rec.GetState() != messages.ChatState_CHAT_STATE_QUEUED || len(deps) == 0 {
		return story, nil
	}
	story.Now, err = b.ExplainWaiting(ctx, deps[len(deps)-1], rec.GetChatId())
	return story, err
}

// ExplainWaiting asks the queue of department dept why chat chatID waits
// there now (nil: it does not wait there). A queue that does not answer
// in time is a temporary UNAVAILABLE.
func (b *Broker) ExplainWaiting(ctx context.Context, dept, chatID string) (*messages.RoutingDecision, error) {
	if !ValidName(dept) || !ValidID(chatID) {
		return nil, nil
	}
	res, err := b.root.RequestFuture(b.PID(KindQueue, dept), &messages.RoutingExplain{ChatId: chatID}, askTimeout(ctx)).Result()
	if err != nil {
		return nil, messages.TemporaryErrorf(codeUnavailable, "the %s queue did not answer: %v", dept, err)
	}
	d, ok := res.(*messages.RoutingDecision)
	if !ok {
		return nil, fmt.Errorf("queue %s: unexpected reply %T", dept, res)
	}
	return d, nil
}
