package persistence

import "github.com/switchboard-chat/switchboard/messages"

// Channels (issue 19): a channel's settings, secrets included, under
// d/channel/<id>. The directory actor is their one writer.

// PutChannel durably replaces a channel, or creates it when create (then
// with its deliveries cleared: clearTarget).
func (s *Store) PutChannel(c *messages.Channel, create bool, done func(error)) {
	s.putTarget(channelKey(c.GetId()), c, create, messages.ChannelTarget(c.GetId()), done)
}

// DeleteChannel durably removes a channel.
func (s *Store) DeleteChannel(id string, done func(error)) {
	s.submit([]mutation{del(channelKey(id))}, done)
}

// Channel returns a channel, or nil when there is none.
func (s *Store) Channel(id string) (*messages.Channel, error) {
	c := &messages.Channel{}
	if ok, err := s.get(channelKey(id), c); !ok {
		return nil, err
	}
	return c, nil
}

// Channels returns every channel, ordered by id.
func (s *Store) Channels() ([]*messages.Channel, error) {
	return scanAll(s, []byte(prefixChannel), func() *messages.Channel { return &messages.Channel{} })
}
