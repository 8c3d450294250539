package persistence

import (
	"github.com/switchboard-chat/switchboard/messages"
)

// PutLiveChat durably creates or replaces a live chat.
func (s *Store) PutLiveChat(x *messages.LiveChat, done func(error)) {
	s.putOne(liveChatKey(x.GetId()), x, done)
}

// DeleteLiveChat durably removes a live chat.
func (s *Store) DeleteLiveChat(id string, done func(error)) {
	s.submit([]mutation{del(liveChatKey(id))}, done)
}

// LiveChat returns a stored live chat, or nil when none is stored by
// that id (the default one, "main", may be stored or not: the actors
// make it up when it is not).
func (s *Store) LiveChat(id string) (*messages.LiveChat, error) {
	x := &messages.LiveChat{}
	if ok, err := s.get(liveChatKey(id), x); !ok {
		return nil, err
	}
	return x, nil
}

// LiveChats returns every stored live chat, ordered by id.
func (s *Store) LiveChats() ([]*messages.LiveChat, error) {
	return scanAll(s, []byte(prefixLiveChat), func() *messages.LiveChat { return &messages.LiveChat{} })
}
