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

// histBounds is the first value of bucket i and its width.
func histBounds(i uint32) (lo, width uint32) {
	if i < histExact {
		return i, 1
	}
	e := (i-histExact)/histSub + histExactBits
	sub := (i - histExact) % histSub
	width = 1 << (e - histSubBits)
	return 1<<e + sub*width, width
}

// histAdd adds one duration to h (ms below zero count as zero; above
// 2^32-1 ms, about 49 days, as that).
func histAdd(h *messages.StatsHistogram, ms int64) {
	v := uint32(min(max(ms, 0), 1<<32-1))
	if h.Counts == nil {
		h.Counts = map[uint32]uint32{}
	}
	h.Counts[histIndex(v)]++
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
		dst.Counts = make(map[uint32]uint32, len(src.Counts))
	}
	for i, n := range src.Counts {
		dst.Counts[i] += n
	}
	dst.Count += src.Count
	dst.SumMs += src.SumMs
	dst.MaxMs = max(dst.MaxMs, src.MaxMs)
}

// histQuantile is the q-quantile (0 < q <= 1) by nearest rank: the
// middle of the bucket holding the ceil(q*count)-th smallest value
// (exact below 256 ms), never above the exact maximum. 0 when empty.
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
			lo, width := histBounds(i)
			return min(lo+width/2, h.MaxMs)
		}
	}
	return h.MaxMs
}
