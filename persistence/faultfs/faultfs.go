// Package faultfs is a filesystem for fault drills in tests: while failing,
// every write to it (create, write, sync, rename, remove) fails as a full
// disk does, with ENOSPC; reads go through. It is Pebble's errorfs
// underneath. Only tests import it (persistence's and cmd/switchboard's),
// so none of it is in the broker's binary; TestLayers in actors checks
// that no other package does.
//
// An FS is safe from any goroutine.
package faultfs

import (
	"fmt"
	"syscall"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// FS fails every write while Fail(true) holds.
type FS struct {
	*errorfs.FS
	toggle *errorfs.Toggle
}

// New wraps fs (vfs.Default for a real disk).
func New(fs vfs.FS) *FS {
	t := &errorfs.Toggle{Injector: errorfs.InjectorFunc(func(op errorfs.Op) error {
		if op.Kind.ReadOrWrite() == errorfs.OpIsWrite {
			return fmt.Errorf("%s %s: %w", errorfs.ErrInjected, op.Path, syscall.ENOSPC)
		}
		return nil
	})}
	return &FS{FS: errorfs.Wrap(fs, t), toggle: t}
}

// Fail starts (true) or ends (false) the fault.
func (f *FS) Fail(on bool) {
	if on {
		f.toggle.On()
	} else {
		f.toggle.Off()
	}
}
