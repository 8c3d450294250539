package persistence

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/switchboard-chat/switchboard/messages"
)

// A search walks posting lists in position order (newest first): the
// lists of the facets a chat must have are intersected by leapfrogging
// (each list seeks to the furthest position another reached, so the
// work follows the shortest list), and the caller's scope is the union
// of its lists. Each chat found is checked last by the caller's allow.

const (
	defaultHistoryLimit = 50
	maxHistoryLimit     = 200
	// maxExamined bounds the chats one page looks at (allow may refuse
	// many): past it, the page ends early with a cursor to go on from.
	maxExamined = 20000
)

// stream is a sorted list of positions.
type stream interface {
	// seek returns the smallest position >= pos, or ok false.
	seek(pos []byte) (p []byte, ok bool, err error)
	close() error
}

// postings is one facet's list.
type postings struct {
	prefix []byte
	it     *pebble.Iterator
}

func newPostings(db pebble.Reader, facet string) (*postings, error) {
	p := postingPrefix(facet)
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: upperBound(p)})
	if err != nil {
		return nil, err
	}
	return &postings{prefix: p, it: it}, nil
}

func (s *postings) seek(pos []byte) ([]byte, bool, error) {
	if !s.it.SeekGE(append(s.prefix[:len(s.prefix):len(s.prefix)], pos...)) {
		return nil, false, s.it.Error()
	}
	return s.it.Key()[len(s.prefix):], true, nil
}

func (s *postings) close() error { return s.it.Close() }

// intersection has the positions every one of its streams has.
type intersection []stream

func (x intersection) seek(pos []byte) ([]byte, bool, error) {
	for {
		agreed := true
		for _, s := range x {
			p, ok, err := s.seek(pos)
			if !ok || err != nil {
				return nil, false, err
			}
			if !bytes.Equal(p, pos) {
				pos, agreed = append([]byte(nil), p...), false
			}
		}
		if agreed {
			return pos, true, nil
		}
	}
}

func (x intersection) close() error { return closeAll(x) }

// union has the positions any one of its streams has.
type union []stream

func (u union) seek(pos []byte) ([]byte, bool, error) {
	var best []byte
	for _, s := range u {
		p, ok, err := s.seek(pos)
		if err != nil {
			return nil, false, err
		}
		if ok && (best == nil || bytes.Compare(p, best) < 0) {
			best = append(best[:0], p...)
		}
	}
	return best, best != nil, nil
}

func (u union) close() error { return closeAll(u) }

func closeAll(ss []stream) error {
	var errs []error
	for _, s := range ss {
		errs = append(errs, s.close())
	}
	return errors.Join(errs...)
}

// plan opens the query's streams: the intersection of its facets' lists
// and, when it has a scope, of the union of the scope's.
func plan(db pebble.Reader, q *messages.ChatHistoryQuery) (stream, error) {
	var all intersection
	open := func(f string) (stream, error) {
		p, err := newPostings(db, f)
		if err != nil {
			return nil, err
		}
		return p, nil
	}
	fail := func(err error) (stream, error) {
		all.close()
		return nil, err
	}
	facets := q.GetAll()
	if len(facets) == 0 && len(q.GetAny()) == 0 {
		facets = []string{messages.HistoryAll}
	}
	for _, f := range facets {
		s, err := open(f)
		if err != nil {
			return fail(err)
		}
		all = append(all, s)
	}
	if len(q.GetAny()) > 0 {
		var any union
		for _, f := range q.GetAny() {
			s, err := open(f)
			if err != nil {
				any.close()
				return fail(err)
			}
			any = append(any, s)
		}
		all = append(all, any)
	}
	return all, nil
}

// decodeCursor is the position a cursor says to go on after.
func decodeCursor(c string) ([]byte, error) {
	pos, err := base64.RawURLEncoding.DecodeString(c)
	if _, id, ok := posChat(pos); err != nil || !ok || !plainID(id) {
		return nil, messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "cursor", "the cursor is not one a page gave")
	}
	return pos, nil
}

// SearchChats returns a page of the history index, newest first: the
// chats q selects that allow accepts (nil: all). A bad cursor or limit is
// a typed error.
func (s *Store) SearchChats(q *messages.ChatHistoryQuery, allow func(*messages.ChatHistoryEntry) bool) (*messages.ChatHistoryPage, error) {
	limit := int(q.GetLimit())
	switch {
	case limit == 0:
		limit = defaultHistoryLimit
	case limit > maxHistoryLimit:
		return nil, messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "limit", "limit is at most %d", maxHistoryLimit)
	}
	pos := []byte{}
	if q.GetToMs() != 0 {
		pos = posTimeBound(q.GetToMs() - 1)
	}
	if c := q.GetCursor(); c != "" {
		after, err := decodeCursor(c)
		if err != nil {
			return nil, err
		}
		pos = append(after, 0) // the next position after it
	}
	page := &messages.ChatHistoryPage{}
	err := s.withDB(func(db *pebble.DB) error {
		root, err := plan(db, q)
		if err != nil {
			return err
		}
		defer root.close()
		return collect(db, root, pos, q.GetFromMs(), limit, allow, page)
	})
	if err != nil {
		return nil, fmt.Errorf("persistence: search chats: %w", err)
	}
	return page, nil
}

// collect walks root from pos and fills page.
func collect(db pebble.Reader, root stream, pos []byte, fromMs int64, limit int, allow func(*messages.ChatHistoryEntry) bool, page *messages.ChatHistoryPage) error {
	var last []byte
	for examined := 0; len(page.Chats) < limit; examined++ {
		if examined == maxExamined {
			page.NextCursor = base64.RawURLEncoding.EncodeToString(last)
			return nil
		}
		p, ok, err := root.seek(pos)
		if err != nil || !ok {
			return err
		}
		started, id, ok := posChat(p)
		if !ok || (fromMs != 0 && started < fromMs) {
			return nil
		}
		last = append(last[:0], p...)
		pos = append(append(pos[:0], p...), 0)
		e := &messages.ChatHistoryEntry{}
		if found, err := getFrom(db, entryKey(id), e); err != nil {
			return err
		} else if found && (allow == nil || allow(e)) {
			page.Chats = append(page.Chats, e)
		}
	}
	page.NextCursor = base64.RawURLEncoding.EncodeToString(last)
	return nil
}

// plainID: chat ids are made of letters, digits, '-', '_' and '.'.
func plainID(id string) bool {
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}
