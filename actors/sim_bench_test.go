package actors

import (
	"testing"
	"time"
)

// BenchmarkSimulateDay runs a synthetic day of 100,000 chats through the
// simulator: four departments of 35 agents (three chats at once each),
// 25,000 chats each over 24 hours, five minutes' handling on average
// (about 83% busy). The target is under 10 s per day.
func BenchmarkSimulateDay(b *testing.B) {
	const perDept, depts = 25000, 4
	tr := &Traffic{}
	for i, d := range []string{"sales", "support", "billing", "returns"}[:depts] {
		tr.Merge(Synthetic{Department: d, Language: "en", ArrivalsPerHour: perDept / 24.0, HandlingMean: 5 * time.Minute,
			Agents: 35, Limit: 3, Hours: 24, Seed: uint64(i + 1), AgentPrefix: d + "-agent-"}.Traffic())
	}
	b.ReportAllocs()
	b.ResetTimer()
	var arrivals int
	for range b.N {
		arrivals = Simulate(tr, Changes{}, nil).Arrivals
	}
	b.StopTimer()
	b.ReportMetric(float64(arrivals)*float64(b.N)/b.Elapsed().Seconds(), "chats/s")
	b.ReportMetric(float64(arrivals), "chats/op")
}
