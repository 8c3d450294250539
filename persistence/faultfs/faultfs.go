package persistence

import (
	"fmt"
	"syscall"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// FaultFS is a filesystem for fault drills and tests: while failing, every
// write to it (create, write, sync, rename, remove) fails as a full disk
// does, with ENOSPC. Reads go through. It is Pebble's errorfs underneath.
type FaultFS struct {
	*errorfs.FS
	toggle *errorfs.Toggle
}

// NewFaultFS wraps fs (vfs.Default for a real disk).
func NewFaultFS(fs vfs.FS) *FaultFS {
	t := &errorfs.Toggle{Injector: errorfs.InjectorFunc(func(op errorfs.Op) error {
		if op.Kind.ReadOrWrite() == errorfs.OpIsWrite {
			return fmt.Errorf("%s %s: %w", errorfs.ErrInjected, op.Path, syscall.ENOSPC)
		}
		return nil
	})}
	return &FaultFS{FS: errorfs.Wrap(fs, t), toggle: t}
}

// Fail starts (true) or ends (false) the fault.
func (f *FaultFS) Fail(on bool) {
	if on {
		f.toggle.On()
	} else {
		f.toggle.Off()
	}
}
