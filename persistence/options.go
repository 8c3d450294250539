// Options: what a Store is opened with, its defaults and their checks.

package persistence

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// The defaults of Options, in one place (cmd/switchboard's flags show them).
const (
	DefaultMaxBatch       = 4096
	DefaultQueueLength    = 65536
	DefaultMinFreeBytes   = 1 << 30
	DefaultDiskCheckEvery = 5 * time.Second
)

// Options configures a Store. The zero value is ready to use: a zero field
// means its documented default.
type Options struct {
	// MaxBatch is the most write requests committed in one synced batch.
	// Default 4096.
	MaxBatch int
	// QueueLength is how many write requests may wait for the writer before
	// a submitter blocks. Default 65536.
	QueueLength int
	// FS is the filesystem Pebble runs on. Default: the operating system's.
	// Tests inject pebble's in-memory or fault-injecting filesystems here.
	FS vfs.FS
	// Logger receives Pebble's and the writer's messages. Default: slog's
	// default logger.
	Logger *slog.Logger
	// MinFreeBytes: while the data folder's disk has less free space than
	// this, every write fails at once with ErrDiskLow. Default 1 GiB;
	// negative: no check.
	MinFreeBytes int64
	// DiskCheckEvery is how often free space is checked. Default 5 s.
	DiskCheckEvery time.Duration
	// FreeSpace returns the free bytes on dir's disk. Default: statfs.
	// Tests inject their own.
	FreeSpace func(dir string) (uint64, error)
	// Metrics, when set, receives each batch's size, commit time and
	// bytes, and reads the store's state and Pebble's metrics when
	// scraped (NewMetrics). Default nil: off, nothing recorded.
	Metrics *Metrics
	// NoHistory switches the chat history index off: AppendChat writes no
	// feed, no indexer runs, searches find nothing. Default false (on);
	// for measuring what indexing costs.
	NoHistory bool
	// NoStats switches the statistics projection off (stats_*.go): the
	// indexer folds no figures, AppendStats writes nothing. Default false
	// (on); for measuring what the statistics cost.
	NoStats bool
	// Replicated puts the store under a replicated log (cluster mode,
	// replicate.go): writes are proposed to the Replicator given with
	// Attach, and land when the log applies them (ApplyCommand).
	Replicated bool
	// ApplyWait is how long a replicated write waits for this node to
	// apply it once the log committed it. Default DefaultApplyWait.
	ApplyWait time.Duration
}

// EnsureDefaults fills in the default of every zero field and returns o.
func (o *Options) EnsureDefaults() *Options {
	if o.MaxBatch == 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.QueueLength == 0 {
		o.QueueLength = DefaultQueueLength
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MinFreeBytes == 0 {
		o.MinFreeBytes = DefaultMinFreeBytes
	}
	if o.DiskCheckEvery == 0 {
		o.DiskCheckEvery = DefaultDiskCheckEvery
	}
	if o.ApplyWait == 0 {
		o.ApplyWait = DefaultApplyWait
	}
	if o.FreeSpace == nil {
		o.FreeSpace = statfsFree
	}
	return o
}

// Validate reports a negative size or period: they have no "off". Call it
// after EnsureDefaults (Open does both).
func (o *Options) Validate() error {
	switch {
	case o.MaxBatch < 0:
		return fmt.Errorf("persistence: MaxBatch is %d; it must be positive (0: the default)", o.MaxBatch)
	case o.QueueLength < 0:
		return fmt.Errorf("persistence: QueueLength is %d; it must be positive (0: the default)", o.QueueLength)
	case o.DiskCheckEvery < 0:
		return fmt.Errorf("persistence: DiskCheckEvery is %s; it must be positive (0: the default)", o.DiskCheckEvery)
	}
	return nil
}
