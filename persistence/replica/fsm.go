package replica

import (
	"fmt"
	"io"

	"github.com/hashicorp/raft"

	"github.com/switchboard-chat/switchboard/persistence"
)

// fsm is Raft's state machine: the Store's own Pebble. A command the
// Store cannot apply leaves this replica unable to follow the log; fatal
// is told, and the node stops rather than diverge.
type fsm struct {
	store *persistence.Store
	apply func(index uint64, data []byte) error // store.ApplyCommand
	fatal func(error)
}

func (f *fsm) Apply(l *raft.Log) interface{} {
	if l.Type != raft.LogCommand {
		return nil
	}
	if err := f.apply(l.Index, l.Data); err != nil {
		f.fatal(err)
		return err
	}
	return nil
}

func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	sn, err := f.store.TakeSnapshot()
	if err != nil {
		return nil, err
	}
	return snapshot{sn}, nil
}

func (f *fsm) Restore(r io.ReadCloser) error {
	defer r.Close()
	if err := f.store.Restore(r); err != nil {
		f.fatal(err)
		return err
	}
	return nil
}

type snapshot struct{ sn *persistence.Snapshot }

func (s snapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := s.sn.WriteTo(sink); err != nil {
		sink.Cancel()
		return fmt.Errorf("replica: write snapshot: %w", err)
	}
	return sink.Close()
}

func (s snapshot) Release() { s.sn.Release() }
