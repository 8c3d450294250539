package replica

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/persistence"
)

// BenchmarkDurableAppend compares, in one run, acknowledged chat appends
// on one node (a synced Pebble batch) and through a 3-node group on
// loopback (a quorum's synced Raft append, then each proposer's apply),
// with 64 writers each on its own chat: each op is one acknowledged
// append. In the group the writers are spread over the three nodes.
func BenchmarkDurableAppend(b *testing.B) {
	b.Run("one-node", func(b *testing.B) {
		s, err := persistence.Open(b.TempDir(), persistence.Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		runAppends(b, []*persistence.Store{s})
	})
	b.Run("three-nodes", func(b *testing.B) {
		c := startCluster(b, 3, nil)
		stores := make([]*persistence.Store, len(c.members))
		for i, m := range c.members {
			stores[i] = m.store
		}
		runAppends(b, stores)
	})
}

// writersPerCPU: 256 writers on two cores, as 256 chats streaming at once.
var writersPerCPU = 128

func runAppends(b *testing.B, stores []*persistence.Store) {
	var writer, refused atomic.Int64
	b.SetParallelism(writersPerCPU)
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := writer.Add(1)
		s := stores[int(w)%len(stores)]
		chat := fmt.Sprintf("bench-%d", w)
		var seq uint64
		for pb.Next() {
			if err := appendOne(s, chat, seq+1); err != nil {
				// A leader change refuses writes for a moment (temporary
				// errors): go on from what is stored, as a chat would.
				refused.Add(1)
				if seq, err = s.LastChatSeq(chat); err != nil {
					b.Error(err)
					return
				}
				continue
			}
			seq++
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "appends/s")
	b.ReportMetric(float64(refused.Load()), "refused")
}
