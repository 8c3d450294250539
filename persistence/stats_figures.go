package persistence

import (
	"math"

	"github.com/switchboard-chat/switchboard/messages"
)

// mergeBucket adds src into dst: counters and times add, histograms
// merge, the peak is the larger.
func mergeBucket(dst, src *messages.StatsBucket) {
	dst.Requested += src.Requested
	for r, n := range src.Refused {
		if dst.Refused == nil {
			dst.Refused = map[int32]uint32{}
		}
		dst.Refused[r] += n
	}
	dst.Queued += src.Queued
	dst.Assigned += src.Assigned
	dst.Missed += src.Missed
	dst.TransferredIn += src.TransferredIn
	dst.TransferredOut += src.TransferredOut
	dst.Closed += src.Closed
	dst.OfflineMessages += src.OfflineMessages
	dst.Wait = mergedHist(dst.Wait, src.Wait)
	dst.FirstResponse = mergedHist(dst.FirstResponse, src.FirstResponse)
	dst.Handling = mergedHist(dst.Handling, src.Handling)
	dst.WithinTarget += src.WithinTarget
	dst.VisitorMessages += src.VisitorMessages
	dst.StaffMessages += src.StaffMessages
	for st, ms := range src.StatusMs {
		if dst.StatusMs == nil {
			dst.StatusMs = map[int32]uint64{}
		}
		dst.StatusMs[st] += ms
	}
	dst.ChatMs += src.ChatMs
	dst.LimitMs += src.LimitMs
	if src.PeakChats > dst.PeakChats || dst.PeakLimit == 0 && src.PeakChats == dst.PeakChats {
		dst.PeakChats, dst.PeakLimit = src.PeakChats, src.PeakLimit
	}
	dst.OffersDeclined += src.OffersDeclined
	dst.OffersExpired += src.OffersExpired
	dst.RatedGood += src.RatedGood
	dst.RatedBad += src.RatedBad
}

func mergedHist(dst, src *messages.StatsHistogram) *messages.StatsHistogram {
	if src.GetCount() == 0 {
		return dst
	}
	if dst == nil {
		dst = &messages.StatsHistogram{}
	}
	histMerge(dst, src)
	return dst
}

// Figures are the figures of a (merged) bucket.
func Figures(x *messages.StatsBucket) *messages.StatsFigures {
	f := &messages.StatsFigures{
		Requested: x.Requested, Queued: x.Queued, Assigned: x.Assigned, Missed: x.Missed,
		TransferredIn: x.TransferredIn, TransferredOut: x.TransferredOut, Closed: x.Closed,
		OfflineMessages: x.OfflineMessages,
		Waits:           x.GetWait().GetCount(), WaitP50Ms: histQuantile(x.Wait, .5), WaitP90Ms: histQuantile(x.Wait, .9),
		WaitMaxMs: x.GetWait().GetMaxMs(), AnsweredWithinTarget: x.WithinTarget,
		FirstResponses: x.GetFirstResponse().GetCount(), FirstResponseP50Ms: histQuantile(x.FirstResponse, .5),
		FirstResponseP90Ms: histQuantile(x.FirstResponse, .9),
		Handled:            x.GetHandling().GetCount(), HandlingP50Ms: histQuantile(x.Handling, .5), HandlingP90Ms: histQuantile(x.Handling, .9),
		VisitorMessages: x.VisitorMessages, StaffMessages: x.StaffMessages,
		AvailableS:      seconds(x.StatusMs[int32(messages.AgentStatus_AGENT_STATUS_AVAILABLE)]),
		AwayS:           seconds(x.StatusMs[int32(messages.AgentStatus_AGENT_STATUS_AWAY)]),
		DrainingS:       seconds(x.StatusMs[int32(messages.AgentStatus_AGENT_STATUS_DRAINING)]),
		OfflineS:        seconds(x.StatusMs[int32(messages.AgentStatus_AGENT_STATUS_OFFLINE)]),
		ChatsAtOncePeak: x.PeakChats, OffersDeclined: x.OffersDeclined, OffersExpired: x.OffersExpired,
		RatedGood: x.RatedGood, RatedBad: x.RatedBad,
	}
	for r, n := range x.Refused {
		if f.Refused == nil {
			f.Refused = map[string]uint32{}
		}
		f.Refused[messages.RefusalName(messages.RefusalReason(r))] += n
	}
	f.WithinTargetShare = share(uint64(x.WithinTarget), uint64(f.Waits))
	online := uint64(0)
	for st, ms := range x.StatusMs {
		if st != int32(messages.AgentStatus_AGENT_STATUS_OFFLINE) {
			online += ms
		}
	}
	f.ChatsAtOnceAvg = share(x.ChatMs, online)
	f.Occupancy = share(x.ChatMs, x.LimitMs)
	f.GoodShare = share(uint64(x.RatedGood), uint64(x.RatedGood)+uint64(x.RatedBad))
	return f
}

// share is n/of to four decimals (0 when of is 0).
func share(n, of uint64) float64 {
	if of == 0 {
		return 0
	}
	return math.Round(float64(n)/float64(of)*10000) / 10000
}

// seconds is ms in seconds, to the millisecond.
func seconds(ms uint64) float64 { return float64(ms) / 1000 }
