package persistence

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// statsOn says whether statistics events are stored: not with the
// statistics off, nor without the indexer that folds them.
func (s *Store) statsOn() bool { return !s.opts.NoStats && !s.opts.NoHistory }

// statsMutation is ev as a mutation (its key is numbered at commit).
func statsMutation(ev *messages.StatsEvent) (mutation, error) {
	v, err := proto.Marshal(ev)
	if err != nil {
		return mutation{}, fmt.Errorf("persistence: marshal %T: %w", ev, err)
	}
	return mutation{stat: true, value: v}, nil
}

// AppendStats stores a statistics event in the writer's next batch and
// calls done (when not nil) once it is stored. Nothing is acknowledged to
// a user on it: actors pass nil. Nothing is stored when the statistics
// are off.
func (s *Store) AppendStats(ev *messages.StatsEvent, done func(error)) {
	if !s.statsOn() {
		if done != nil {
			done(nil)
		}
		return
	}
	m, err := statsMutation(ev)
	if err != nil {
		if done != nil {
			done(err)
		}
		return
	}
	s.submit([]mutation{m}, done)
}

// statsQuery is a StatsQuery read: its times, and its zone loaded.
type statsQuery struct {
	Dims          []string
	From, To, Now time.Time
	Loc           *time.Location
	Day           bool
	// hourly: the query reads the hourly sums (its bounds and buckets
	// are whole UTC hours).
	hourly bool
}

// segment is a read of buckets starting in [from, to), of the hourly
// sums or of the 15-minute buckets.
type segment struct {
	from, to time.Time
	hourly   bool
}

// segments cover [from, to): the whole UTC hours in it from the hourly
// sums, the rest (a zone's half or quarter hours) from 15-minute buckets.
func segments(from, to time.Time) []segment {
	h0, h1 := from.Truncate(time.Hour), to.Truncate(time.Hour)
	if h0.Before(from) {
		h0 = h0.Add(time.Hour)
	}
	if !h0.Before(h1) {
		return []segment{{from, to, false}}
	}
	out := []segment{}
	if from.Before(h0) {
		out = append(out, segment{from, h0, false})
	}
	out = append(out, segment{h0, h1, true})
	if h1.Before(to) {
		out = append(out, segment{h1, to, false})
	}
	return out
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// onHours says whether from, to and every bucket start are whole UTC
// hours, as in every zone of whole-hour offsets: then a query reads the
// hourly sums.
func onHours(from, to time.Time, starts []time.Time) bool {
	for _, t := range append([]time.Time{from, to}, starts...) {
		if t.UnixMilli()%3600_000 != 0 {
			return false
		}
	}
	return true
}

// maxComments is how many rating comments a report lists.
const maxComments = 50

// StatsReport reads the figures q asks for: the buckets of its dims, and the
// agents' activity that is still going on. It reads no chat.
func (s *Store) StatsReport(sq *messages.StatsQuery) (*messages.StatsReport, error) {
	loc, err := time.LoadLocation(sq.GetTimeZone())
	if err != nil {
		return nil, fmt.Errorf("stats: time zone: %w", err)
	}
	q := statsQuery{Dims: sq.GetDims(), From: time.UnixMilli(sq.GetFromMs()), To: time.UnixMilli(sq.GetToMs()),
		Now: time.UnixMilli(sq.GetNowMs()), Loc: loc, Day: sq.GetDay()}
	starts := bucketStarts(q)
	q.hourly = onHours(q.From, q.To, starts)
	parts := make([]*messages.StatsBucket, len(starts))
	for i := range parts {
		parts[i] = &messages.StatsBucket{}
	}
	at := func(ms int64) int {
		t := time.UnixMilli(ms)
		return sort.Search(len(starts), func(i int) bool { return starts[i].After(t) }) - 1
	}
	acc := &bucketAcc{}
	filled := make([]bool, len(parts))
	// into sets parts[i] to the accumulated sum, added to another dim's
	// when one filled it already.
	into := func(i int) {
		if acc.n == 0 || i < 0 {
			return
		}
		if filled[i] {
			acc.add(parts[i])
		}
		parts[i], filled[i] = acc.bucket(), true
	}
	var comments []*messages.StatsComment
	err = s.withDB(func(pdb *pebble.DB) error {
		// One snapshot: an indexing round that commits meanwhile is in
		// all of the report or none of it.
		db := pdb.NewSnapshot()
		defer db.Close()
		for _, d := range q.Dims {
			if !q.hourly {
				// Bucket by bucket: the whole hours in it from the hourly
				// sums, its edges from the 15-minute buckets.
				for i, st := range starts {
					end := q.To
					if i+1 < len(starts) {
						end = starts[i+1]
					}
					for _, sg := range segments(later(st, q.From), end) {
						if err := eachBucket(db, d, sg.from, sg.to, sg.hourly, func(_ uint32, x *messages.StatsBucket) { acc.add(x) }); err != nil {
							return err
						}
					}
					into(i)
				}
				continue
			}
			cur := -1
			if err := eachBucket(db, d, q.From, q.To, true, func(minute uint32, x *messages.StatsBucket) {
				if i := at(int64(minute) * 60000); i >= 0 {
					if i != cur {
						into(cur)
						cur = i
					}
					acc.add(x)
				}
			}); err != nil {
				return err
			}
			into(cur)
		}
		if err := openActivity(db, q, func(ms int64, a *messages.AgentActivity, span int64) {
			if i := at(ms); i >= 0 {
				addActivity(parts[i], a, span)
			}
		}); err != nil {
			return err
		}
		var err error
		comments, err = recentComments(db, q)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	for _, p := range parts {
		acc.add(p)
	}
	total := acc.bucket()
	rep := &messages.StatsReport{Total: Figures(total), Comments: comments}
	for i, x := range parts {
		f := Figures(x)
		f.Start = starts[i].Format(time.RFC3339)
		rep.Buckets = append(rep.Buckets, f)
	}
	return rep, nil
}

// bucketStarts are the starts of q's buckets, local hours or days in
// q.Loc, the first at or before q.From; each ends where the next starts,
// the last at q.To.
func bucketStarts(q statsQuery) []time.Time {
	t := q.From.In(q.Loc)
	var starts []time.Time
	if q.Day {
		t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, q.Loc)
		for ; t.Before(q.To); t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, q.Loc) {
			starts = append(starts, t)
		}
		return starts
	}
	// Local hours: an hour later, put back on the local hour where the
	// offset moved by a part of an hour (Lord Howe Island's half-hour
	// summer time); where the clock goes back, the time that repeats is a
	// bucket of its own (there, half an hour from :30).
	t = t.Add(-time.Duration(t.Minute())*time.Minute - time.Duration(t.Second())*time.Second - time.Duration(t.Nanosecond()))
	for t.Before(q.To) {
		starts = append(starts, t)
		next := t.Add(time.Hour)
		if next.Minute() != 0 {
			if snapped := next.Add(-time.Duration(next.Minute()) * time.Minute); snapped.After(t) && snapped.Minute() == 0 {
				next = snapped
			}
		}
		t = next
	}
	return starts
}

// eachBucket calls f with each of dim's buckets that start in [from, to).
func eachBucket(db pebble.Reader, dim string, from, to time.Time, hourly bool, f func(minute uint32, x *messages.StatsBucket)) error {
	lo, hi := bucketKey(dim, minuteOf(from, hourly), hourly), bucketKey(dim, minuteOf(to, hourly), hourly)
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	n := len(bucketPrefix(dim, hourly))
	x := &messages.StatsBucket{}
	hs := [3]*messages.StatsHistogram{{}, {}, {}}
	merge := proto.UnmarshalOptions{Merge: true}
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != n+4 {
			continue
		}
		// A query decodes thousands of buckets: their histograms' lists
		// are decoded into the same arrays each time (Merge appends).
		x.Reset()
		for _, h := range hs {
			h.Index, h.Counts, h.Sums, h.Count, h.SumMs, h.MaxMs = h.Index[:0], h.Counts[:0], h.Sums[:0], 0, 0, 0
		}
		x.Wait, x.FirstResponse, x.Handling = hs[0], hs[1], hs[2]
		if err := merge.Unmarshal(it.Value(), x); err != nil {
			it.Close()
			return fmt.Errorf("persistence: decode %q: %w", k, err)
		}
		f(binary.BigEndian.Uint32(k[n:]), x)
	}
	return it.Close()
}

// minuteOf is the first bucket (or hour) minute at or after t.
func minuteOf(t time.Time, hourly bool) uint32 {
	ms := t.UnixMilli()
	m := bucketMinute(ms, hourly)
	if int64(m)*60000 < ms {
		m += map[bool]uint32{false: bucketMinutes, true: 60}[hourly]
	}
	return m
}

// openActivity calls f with each bucket's share of the current activity
// of the agents whose time counts in q's dims, from when it began (or
// q.From) to q.Now (or q.To).
func openActivity(db pebble.Reader, q statsQuery, f func(bucketMs int64, a *messages.AgentActivity, ms int64)) error {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte(prefixStatAg), UpperBound: upperBound([]byte(prefixStatAg))})
	if err != nil {
		return err
	}
	end := min(q.Now.UnixMilli(), q.To.UnixMilli())
	for ok := it.First(); ok; ok = it.Next() {
		st := &messages.StatsAgentState{}
		if err := unmarshal(it.Key(), it.Value(), st); err != nil {
			it.Close()
			return err
		}
		a := st.GetActivity()
		from := max(st.GetSinceMs(), q.From.UnixMilli())
		if a == nil || from >= end {
			continue
		}
		ds := activityDims(strings.TrimPrefix(string(it.Key()), prefixStatAg), a)
		for _, d := range q.Dims {
			if slices.Contains(ds, d) {
				spanActivity(from, end, func(bucketMs, ms int64) { f(bucketMs, a, ms) })
			}
		}
	}
	return it.Close()
}

// recentComments are the newest rating comments of q's dims in its
// period, newest first, each once.
func recentComments(db pebble.Reader, q statsQuery) ([]*messages.StatsComment, error) {
	var out []*messages.StatsComment
	seen := map[string]bool{}
	for _, d := range q.Dims {
		p := commentPrefix(d)
		lo := binaryAppendMs(p, q.From.UnixMilli())
		hi := binaryAppendMs(p, q.To.UnixMilli())
		it, err := db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
		if err != nil {
			return nil, err
		}
		n := 0
		for ok := it.Last(); ok && n < maxComments; ok = it.Prev() {
			c := &messages.StatsComment{}
			if err := unmarshal(it.Key(), it.Value(), c); err != nil {
				it.Close()
				return nil, err
			}
			if k := fmt.Sprint(c.GetAtMs(), c.GetChatId()); !seen[k] {
				seen[k] = true
				out = append(out, c)
				n++
			}
		}
		if err := it.Close(); err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(out, func(a, b *messages.StatsComment) int {
		return cmp.Or(cmp.Compare(b.GetAtMs(), a.GetAtMs()), strings.Compare(a.GetChatId(), b.GetChatId()))
	})
	return out[:min(len(out), maxComments)], nil
}

func binaryAppendMs(p []byte, ms int64) []byte {
	return binary.BigEndian.AppendUint64(slices.Clone(p), uint64(ms))
}
