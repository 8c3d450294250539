package persistence

// Attachments: a chat's files live under its own prefix (c/<chat>/f/...),
// beside its events, rather than in a folder beside Pebble. So a chat's
// deletion takes its files in the same range deletion, a backup of the
// data folder holds them, and a file and its description land in one
// synced batch (all or nothing: no half-written file after a crash, no
// orphan in a folder to sweep).

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/switchboard-chat/switchboard/messages"
)

// FileChunkBytes is the size of the chunks a file's bytes are stored in:
// values stay small next to Pebble's memtable, and a download streams
// chunk by chunk instead of holding the whole file.
const FileChunkBytes = 256 << 10

// PutFile stores a file's bytes and its description in one batch, synced
// before it returns. It commits its own batch from the caller's goroutine
// (an HTTP handler), not through the chat writer, so that a large file
// never delays the chats' group commits. f.Chunks is set here.
func (s *Store) PutFile(f *messages.StoredFile, data []byte) error {
	if s.closing.Load() {
		return ErrClosed
	}
	if s.diskLow.Load() {
		return ErrDiskLow
	}
	f.Chunks = uint32((len(data) + FileChunkBytes - 1) / FileChunkBytes)
	meta, err := set(fileMetaKey(f.GetChatId(), f.GetFileId()), f)
	if err != nil {
		return err
	}
	if s.rep.on {
		// In a cluster every node must be able to serve the file: it
		// goes through the replicated log like any write.
		muts := make([]mutation, 0, f.Chunks+1)
		for n := uint32(0); n < f.Chunks; n++ {
			end := min(len(data), int(n+1)*FileChunkBytes)
			muts = append(muts, mutation{key: fileChunkKey(f.GetChatId(), f.GetFileId(), n), value: data[int(n)*FileChunkBytes : end]})
		}
		return s.writeSync(append(muts, meta))
	}
	return s.withDB(func(db *pebble.DB) error {
		b := db.NewBatch()
		defer b.Close()
		for n := uint32(0); n < f.Chunks; n++ {
			end := min(len(data), int(n+1)*FileChunkBytes)
			if err := b.Set(fileChunkKey(f.GetChatId(), f.GetFileId(), n), data[int(n)*FileChunkBytes:end], nil); err != nil {
				return fmt.Errorf("persistence: build file batch: %w", err)
			}
		}
		if err := b.Set(meta.key, meta.value, nil); err != nil {
			return fmt.Errorf("persistence: build file batch: %w", err)
		}
		// Sync: the upload is acknowledged (and linked into the chat)
		// once this returns.
		if err := b.Commit(pebble.Sync); err != nil {
			return fmt.Errorf("%w: commit file: %v", ErrUnavailable, err)
		}
		return nil
	})
}

// File returns a file's description, or nil when there is none.
func (s *Store) File(chatID, fileID string) (*messages.StoredFile, error) {
	f := &messages.StoredFile{}
	ok, err := s.get(fileMetaKey(chatID, fileID), f)
	if !ok || err != nil {
		return nil, err
	}
	return f, nil
}

// errShortFile: a file's chunks are fewer than its description says.
var errShortFile = errors.New("persistence: file chunks missing")

// EachFileChunk calls fn with each chunk of a file's bytes in order; the
// slice is only valid during the call.
func (s *Store) EachFileChunk(f *messages.StoredFile, fn func([]byte) error) error {
	n := uint32(0)
	err := s.scan(fileChunkPrefix(f.GetChatId(), f.GetFileId()), func(_, v []byte) error {
		n++
		return fn(v)
	})
	if err == nil && n != f.GetChunks() {
		err = fmt.Errorf("%w: %s has %d of %d", errShortFile, f.GetFileId(), n, f.GetChunks())
	}
	return err
}

// DeleteFile removes a file (one that could not be linked into its chat),
// synced.
func (s *Store) DeleteFile(chatID, fileID string) error {
	p := fileKeyPrefix(chatID, fileID)
	if s.rep.on {
		return s.writeSync([]mutation{{key: p, end: upperBound(p), delete: true}})
	}
	return s.withDB(func(db *pebble.DB) error {
		// Sync: the caller answers the upload's refusal after it.
		return db.DeleteRange(p, upperBound(p), pebble.Sync)
	})
}

// PutVisitorContext stores a visitor's context; done is called once it is
// synced.
func (s *Store) PutVisitorContext(c *messages.VisitorContext, done func(error)) {
	m, err := set(visitorKey(c.GetVisitorId()), c)
	if err != nil {
		done(err)
		return
	}
	s.submit([]mutation{m}, done)
}

// VisitorContext returns a visitor's stored context, or nil.
func (s *Store) VisitorContext(visitorID string) (*messages.VisitorContext, error) {
	c := &messages.VisitorContext{}
	ok, err := s.get(visitorKey(visitorID), c)
	if !ok || err != nil {
		return nil, err
	}
	return c, nil
}
