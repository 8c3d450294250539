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
	if h.Counts == nil {
		h.Counts, h.Sums = map[uint32]uint32{}, map[uint32]uint64{}
	}
	i := histIndex(v)
	h.Counts[i]++
	h.Sums[i] += uint64(v)
	h.Count++
	h.SumMs += uint64(v)
	h.MaxMs = max(h.MaxMs, v)
}

// histMerge adds src into dst.
func histMerge(dst, src *messages.StatsHistogram) {
	if src.GetCount() == 0 {
		return
	}
	if dst.Counts == nil {
		dst.Counts, dst.Sums = make(map[uint32]uint32, len(src.Counts)), make(map[uint32]uint64, len(src.Sums))
	}
	for i, n := range src.Counts {
		dst.Counts[i] += n
		dst.Sums[i] += src.Sums[i]
	}
	dst.Count += src.Count
	dst.SumMs += src.SumMs
	dst.MaxMs = max(dst.MaxMs, src.MaxMs)
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
	idx := make([]uint32, 0, len(h.Counts))
	for i := range h.Counts {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	var seen uint64
	for _, i := range idx {
		seen += uint64(h.Counts[i])
		if seen >= rank {
			n := uint64(h.Counts[i])
			return uint32((h.Sums[i] + n/2) / n)
		}
	}
	return h.MaxMs
}
