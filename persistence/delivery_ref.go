package persistence

import "github.com/switchboard-chat/switchboard/messages"

// PutDeliveryRef durably records what an outside id of a message
// delivered to target (WhatsApp's wamid) refers to.
func (s *Store) PutDeliveryRef(target, ref string, r *messages.DeliveryRef, done func(error)) {
	s.putOne(deliveryRefKey(target, ref), r, done)
}

// DeliveryRef returns what an outside id of a message delivered to target
// refers to, or nil when it is unknown.
func (s *Store) DeliveryRef(target, ref string) (*messages.DeliveryRef, error) {
	r := &messages.DeliveryRef{}
	if ok, err := s.get(deliveryRefKey(target, ref), r); !ok {
		return nil, err
	}
	return r, nil
}
