package persistence

import (
	"fmt"
	"time"
)

// ErrDiskLow: free space on the data folder's disk is under
// Options.MinFreeBytes. Writes fail with it at once (it wraps
// ErrUnavailable: a temporary condition) until space is freed, so the
// broker refuses new chats and messages with a clear, typed error instead
// of running into a full disk, where Pebble stops or wedges.
var ErrDiskLow = fmt.Errorf("%w: the data folder's disk is almost full", ErrUnavailable)

// watchDisk checks the free space every DiskCheckEvery until Close.
func (s *Store) watchDisk() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.DiskCheckEvery)
	defer t.Stop()
	for {
		s.checkDisk()
		select {
		case <-s.stopped:
			return
		case <-t.C:
		}
	}
}

// checkDisk sets or clears the low-disk flag.
func (s *Store) checkDisk() {
	free, err := s.opts.FreeSpace(s.dir)
	if err != nil {
		s.opts.Logger.Warn("persistence: cannot read free disk space", "dir", s.dir, "err", err)
		return
	}
	low := free < uint64(s.opts.MinFreeBytes)
	if was := s.diskLow.Swap(low); was != low {
		if low {
			s.opts.Logger.Error("persistence: free disk space under the threshold; refusing writes", "free_bytes", free, "min_free_bytes", s.opts.MinFreeBytes)
		} else {
			s.opts.Logger.Warn("persistence: free disk space back over the threshold; taking writes", "free_bytes", free)
		}
	}
}

// DiskLow reports whether writes are refused for lack of disk space.
func (s *Store) DiskLow() bool { return s.diskLow.Load() }
