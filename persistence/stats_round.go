package persistence

import (
	"encoding/binary"
	"errors"

	"github.com/cockroachdb/pebble/v2"

	"github.com/switchboard-chat/switchboard/messages"
)

// The statistics projection: counters and histograms per 15-minute
// bucket and per dimension (everything, a department, an agent), kept up
// to date by the history indexer from the events it folds, in the same
// batch as the history entries (see history_index.go). A chat's events
// move its figures exactly once: the chat's entry holds its indexed_seq
// and its StatsChatState, written with the buckets. The facts no chat log
// holds (refusals, offers declined or expired, offline messages, agents'
// status and load) are statistics events (se/), folded in commit order
// from a cursor (h/s/n) written with the buckets too. So after a crash,
// kill -9 included, the figures are those of exactly the events stored:
// what the last round did not write is redone from the feed and the
// cursor. A query reads buckets only (stats_query.go).

// bucketMinutes is a bucket's length: 15 minutes, so that days and hours
// in every time zone (offsets are whole quarter hours) are whole buckets.
const bucketMinutes = 15

const dimAll = messages.StatsEverything

var (
	dimDepartment = messages.StatsDepartment
	dimAgent      = messages.StatsAgent
)

// bucketMinute is the first minute of the bucket (hourly: of the hour)
// that holds atMs.
func bucketMinute(atMs int64, hourly bool) uint32 {
	m, n := max(atMs, 0)/60000, int64(bucketMinutes)
	if hourly {
		n = 60
	}
	return uint32(m - m%n)
}

// statsRound gathers one indexing round's changes: each bucket and agent
// state read once, changed in memory, and written into the round's batch
// by flush. Comments go straight into the batch.
type statsRound struct {
	db      pebble.Reader
	b       *pebble.Batch
	buckets map[string]*messages.StatsBucket
	agents  map[string]*messages.StatsAgentState
	targets map[string]int64
	err     error
	// A busy chat folds many events into the same few buckets: each
	// dim's current pair, and the dims of a department and agent, are
	// kept at hand (no key built, no slice made, per event).
	current map[string]*dimBuckets
	dimsOf  map[[2]string][]string
}

// dimBuckets are a dim's 15-minute bucket and hourly sum in use.
type dimBuckets struct {
	minute, hour uint32
	quarter, sum *messages.StatsBucket
}

func newStatsRound(db pebble.Reader, b *pebble.Batch) *statsRound {
	return &statsRound{db: db, b: b, buckets: map[string]*messages.StatsBucket{},
		agents: map[string]*messages.StatsAgentState{}, targets: map[string]int64{},
		current: map[string]*dimBuckets{}, dimsOf: map[[2]string][]string{}}
}

// fail keeps the round's first error.
func (r *statsRound) fail(err error) {
	if r.err == nil && err != nil {
		r.err = err
	}
}

// each applies f to dim's bucket that holds atMs and to its hour's sum
// (queries in zones of whole-hour offsets read those: a quarter of the
// keys).
func (r *statsRound) each(dim string, atMs int64, f func(*messages.StatsBucket)) {
	m, h := bucketMinute(atMs, false), bucketMinute(atMs, true)
	c := r.current[dim]
	if c == nil {
		c = &dimBuckets{}
		r.current[dim] = c
	}
	if c.quarter == nil || c.minute != m {
		c.minute, c.quarter = m, r.load(bucketKey(dim, m, false))
	}
	if c.sum == nil || c.hour != h {
		c.hour, c.sum = h, r.load(bucketKey(dim, h, true))
	}
	f(c.quarter)
	f(c.sum)
}

// load is the bucket at key k, read once a round.
func (r *statsRound) load(k []byte) *messages.StatsBucket {
	x := r.buckets[string(k)]
	if x == nil {
		x = &messages.StatsBucket{}
		_, err := getFrom(r.db, k, x)
		r.fail(err)
		r.buckets[string(k)] = x
	}
	return x
}

// add applies f to the buckets at atMs of everything, of department dept,
// of agent, and of the agent in the department (each when its ids are not
// empty).
func (r *statsRound) add(atMs int64, dept, agent string, f func(*messages.StatsBucket)) {
	r.each(dimAll, atMs, f)
	k := [2]string{dept, agent}
	ds, ok := r.dimsOf[k]
	if !ok {
		ds = dims(dept, agent)
		r.dimsOf[k] = ds
	}
	for _, d := range ds {
		r.each(d, atMs, f)
	}
}

// dims are the dimensions of department dept, of agent, and of the
// agent in the department (those whose ids are not empty).
func dims(dept, agent string) []string {
	var out []string
	if dept != "" {
		out = append(out, dimDepartment(dept))
	}
	if agent != "" {
		out = append(out, dimAgent(agent))
	}
	if dept != "" && agent != "" {
		out = append(out, messages.StatsAgentIn(agent, dept))
	}
	return out
}

// agent is where agent id's activity stands (an empty state if none).
func (r *statsRound) agent(id string) *messages.StatsAgentState {
	if x := r.agents[id]; x != nil {
		return x
	}
	x := &messages.StatsAgentState{}
	_, err := getFrom(r.db, statsAgentKey(id), x)
	r.fail(err)
	r.agents[id] = x
	return x
}

// loadAgents reads every agent's state into the round.
func (r *statsRound) loadAgents() {
	it, err := r.db.NewIter(&pebble.IterOptions{LowerBound: []byte(prefixStatAg), UpperBound: upperBound([]byte(prefixStatAg))})
	if err != nil {
		r.fail(err)
		return
	}
	for ok := it.First(); ok; ok = it.Next() {
		id := string(it.Key()[len(prefixStatAg):])
		if r.agents[id] == nil {
			x := &messages.StatsAgentState{}
			r.fail(unmarshal(it.Key(), it.Value(), x))
			r.agents[id] = x
		}
	}
	r.fail(it.Close())
}

// targetMs is department dept's answer target in milliseconds.
func (r *statsRound) targetMs(dept string) int64 {
	if t, ok := r.targets[dept]; ok {
		return t
	}
	d := &messages.Department{}
	_, err := getFrom(r.db, departmentKey(dept), d)
	r.fail(err)
	t := int64(d.GetAnswerTargetS())
	if t == 0 {
		t = messages.DefaultAnswerTargetS
	}
	r.targets[dept] = t * 1000
	return t * 1000
}

// flush writes the round's buckets and agent states into the batch.
func (r *statsRound) flush() error {
	if r == nil {
		return nil
	}
	if r.err != nil {
		return r.err
	}
	for k, x := range r.buckets {
		if err := setIn(r.b, []byte(k), x); err != nil {
			return err
		}
	}
	for id, x := range r.agents {
		if err := setIn(r.b, statsAgentKey(id), x); err != nil {
			return err
		}
	}
	return nil
}

// statsRound is a round's statistics, or nil when they are off.
func (s *Store) statsRound(db pebble.Reader, b *pebble.Batch) *statsRound {
	if s.opts.NoStats {
		return nil
	}
	return newStatsRound(db, b)
}

// foldEvents folds at most limit statistics events after the cursor
// and moves the cursor past them; it returns how many it folded.
func (r *statsRound) foldEvents(limit int) (int, error) {
	if r == nil {
		return 0, nil
	}
	var next uint64
	if v, closer, err := r.db.Get(statsCursorKey); err == nil {
		if len(v) == 8 {
			next = binary.BigEndian.Uint64(v)
		}
		closer.Close()
	} else if !errors.Is(err, pebble.ErrNotFound) {
		return 0, err
	}
	it, err := r.db.NewIter(&pebble.IterOptions{LowerBound: statsEventKey(next), UpperBound: upperBound([]byte(prefixStatEv))})
	if err != nil {
		return 0, err
	}
	n := 0
	for ok := it.First(); ok && n < limit; ok = it.Next() {
		ev := &messages.StatsEvent{}
		if err := unmarshal(it.Key(), it.Value(), ev); err != nil {
			it.Close()
			return 0, err
		}
		r.statsEvent(ev)
		next = binary.BigEndian.Uint64(it.Key()[len(prefixStatEv):]) + 1
		n++
	}
	if err := it.Close(); err != nil || n == 0 {
		return 0, err
	}
	return n, r.b.Set(statsCursorKey, binary.BigEndian.AppendUint64(nil, next), nil)
}
