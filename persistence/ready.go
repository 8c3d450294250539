package persistence

// Writable returns nil when writes go through: the store is open, the
// disk has room (not DiskLow) and no storage fault is pending. Otherwise it
// returns why (ErrClosed, ErrDiskLow, or ErrUnavailable wrapping the
// fault). After a fault it tries to reopen Pebble itself (at most every
// reopenEvery, as the writer does), so a readiness probe brings storage
// back even when no write comes: a node taken out of a load balancer for
// a fault gets no traffic that would. Any goroutine may call it; it never
// waits on the writer.
func (s *Store) Writable() error {
	if s.closing.Load() {
		return ErrClosed
	}
	if s.DiskLow() {
		return ErrDiskLow
	}
	if s.Healthy() {
		return nil
	}
	return s.reopen()
}
