package persistence

import (
	"math/bits"
	"slices"

	"github.com/switchboard-chat/switchboard/messages"
)

// Durations in the statistics are kept in log-linear histograms
// (StatsHistogram): exact below histExact milliseconds, then histSub
// buckets per power of two, so a bucket is at most 1/128 of its values
// wide. Histograms of any buckets merge by adding counts, which is what
// lets a query read buckets and never the chats.

const (
	histExactBits = 8
	histExact     = 1 << histExactBits // 256 ms
	histSubBits   = 7
	histSub       = 1 << histSubBits // 128 buckets per power of two
	// histBuckets is one more than the last bucket (of 2^32-1 ms).
	histBuckets = histExact + (32-histExactBits)*histSub
)

// histIndex is the bucket of v milliseconds.
func histIndex(v uint32) uint32 {
	if v < histExact {
		return v
	}
	e := uint32(bits.Len32(v)) - 1 // v in [2^e, 2^(e+1)), e >= 8
	sub := (v >> (e - histSubBits)) & (histSub - 1)
	return histExact + (e-histExactBits)*histSub + sub
}

// histAdd adds one duration to h (ms below zero count as zero; above
// 2^32-1 ms, about 49 days, as that).
func histAdd(h *messages.StatsHistogram, ms int64) {
	v := uint32(min(max(ms, 0), 1<<32-1))
	i := histIndex(v)
	at, found := slices.BinarySearch(h.Index, i)
	if !found {
		h.Index = slices.Insert(h.Index, at, i)
		h.Counts = slices.Insert(h.Counts, at, 0)
		h.Sums = slices.Insert(h.Sums, at, 0)
	}
	h.Counts[at]++
	h.Sums[at] += uint64(v)
	h.Count++
	h.SumMs += uint64(v)
	h.MaxMs = max(h.MaxMs, v)
}

// histAcc adds histograms up in dense arrays (a query merges thousands);
// hist gives the sum as a StatsHistogram and empties the accumulator.
type histAcc struct {
	counts  [histBuckets]uint32
	sums    [histBuckets]uint64
	touched []uint32
	n       uint32
	sum     uint64
	max     uint32
}

func (a *histAcc) add(h *messages.StatsHistogram) {
	if h.GetCount() == 0 {
		return
	}
	for k, i := range h.Index {
		if i >= histBuckets || k >= len(h.Counts) || k >= len(h.Sums) {
			break // not a layout this code wrote
		}
		if a.counts[i] == 0 {
			a.touched = append(a.touched, i)
		}
		a.counts[i] += h.Counts[k]
		a.sums[i] += h.Sums[k]
	}
	a.n += h.Count
	a.sum += h.SumMs
	a.max = max(a.max, h.MaxMs)
}

func (a *histAcc) hist() *messages.StatsHistogram {
	if a.n == 0 {
		return nil
	}
	slices.Sort(a.touched)
	h := &messages.StatsHistogram{Count: a.n, SumMs: a.sum, MaxMs: a.max, Index: slices.Clone(a.touched),
		Counts: make([]uint32, len(a.touched)), Sums: make([]uint64, len(a.touched))}
	for k, i := range a.touched {
		h.Counts[k], h.Sums[k] = a.counts[i], a.sums[i]
		a.counts[i], a.sums[i] = 0, 0
	}
	a.touched, a.n, a.sum, a.max = a.touched[:0], 0, 0, 0
	return h
}

// histQuantile is the q-quantile (0 < q <= 1) by nearest rank: the mean
// of the values in the bucket holding the ceil(q*count)-th smallest value
// (that value when they are equal, as below 256 ms always). 0 when empty.
func histQuantile(h *messages.StatsHistogram, q float64) uint32 {
	if h.GetCount() == 0 {
		return 0
	}
	rank := uint64(q*float64(h.Count) + 0.999999999)
	rank = min(max(rank, 1), uint64(h.Count))
	var seen uint64
	for k := range h.Index {
		if k >= len(h.Counts) || k >= len(h.Sums) {
			break
		}
		seen += uint64(h.Counts[k])
		if seen >= rank {
			n := uint64(h.Counts[k])
			return uint32((h.Sums[k] + n/2) / n)
		}
	}
	return h.MaxMs
}
