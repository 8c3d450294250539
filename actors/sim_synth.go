package actors

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

// Synthetic is traffic for a team with no history (switchboard simulate
// -synthetic): one department whose chats arrive at random (a Poisson
// process) and stay with an agent for a handling time drawn from an
// exponential distribution or fixed, and agents who are available all
// along and accept every offer at once. The same seed gives the same
// traffic.
type Synthetic struct {
	Department, Language string
	ArrivalsPerHour      float64
	HandlingMean         time.Duration
	FixedHandling        bool // false: exponential
	Agents               int
	Limit                uint32 // chats at once per agent (0: 1)
	Hours                float64
	Seed                 uint64
	// Start is when the first hour begins (zero: 2026-01-05 00:00 UTC);
	// AgentPrefix names the agents (zero: "agent-").
	Start       time.Time
	AgentPrefix string
}

// Traffic is s's traffic.
func (s Synthetic) Traffic() *Traffic {
	start := s.Start
	if start.IsZero() {
		start = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	}
	prefix := s.AgentPrefix
	if prefix == "" {
		prefix = "agent-"
	}
	limit := max(s.Limit, 1)
	t0 := start.UnixNano()
	t := &Traffic{Chats: map[string]*messages.SimChat{}}
	dept := &messages.Department{Id: s.Department, Name: s.Department, ChatEnabled: true, QueueLimit: 1 << 30}
	t.Inputs = append(t.Inputs, &messages.RoutingInput{AtNs: t0, Department: s.Department,
		Input: &messages.RoutingInput_Settings{Settings: &messages.RoutingSettings{Department: dept, Started: true}}})
	for i := range s.Agents {
		t.Inputs = append(t.Inputs, &messages.RoutingInput{AtNs: t0, Department: s.Department, Input: &messages.RoutingInput_Report{Report: &messages.AgentReport{
			AgentId: fmt.Sprintf("%s%03d", prefix, i+1), Status: statusAvailable, Connected: true, Languages: []string{s.Language},
			MaxChats: limit, Member: true}}})
	}
	rng := rand.New(rand.NewPCG(s.Seed, 0x5157))
	end := t0 + int64(s.Hours*float64(time.Hour))
	mean := float64(time.Hour) / s.ArrivalsPerHour
	for at, n := t0, 0; ; n++ {
		at += int64(rng.ExpFloat64() * mean)
		if at >= end || s.ArrivalsPerHour <= 0 {
			break
		}
		id := fmt.Sprintf("%s-%07d", s.Department, n+1)
		t.Inputs = append(t.Inputs, &messages.RoutingInput{AtNs: at, Department: s.Department, Input: &messages.RoutingInput_Admit{Admit: &messages.StartChat{
			ChatId: id, VisitorId: "v-" + id, Request: &messages.RequestChat{Department: s.Department, Language: s.Language}}}})
		h := float64(s.HandlingMean)
		if !s.FixedHandling {
			h *= rng.ExpFloat64()
		}
		t.Chats[id] = &messages.SimChat{ChatId: id, Stays: []*messages.SimStay{{Department: s.Department, HandlingMs: max(int64(math.Round(h/float64(time.Millisecond))), 1)}}}
	}
	return t
}

// Erlang C (M/M/N, no one leaves): with N agents each taking one chat at
// a time, arrivals at rate lambda and handling times of mean 1/mu, the
// offered load is A = lambda/mu erlangs.

// ErlangC is the probability that a chat waits at all (1 when A >= N:
// the line grows without end).
func ErlangC(n int, a float64) float64 {
	if a >= float64(n) {
		return 1
	}
	b := 1.0 // Erlang B, by its recurrence: stable for any n
	for k := 1; k <= n; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return float64(n) * b / (float64(n) - a*(1-b))
}

// ErlangMeanWait is the mean wait over all chats.
func ErlangMeanWait(n int, a float64, handlingMean time.Duration) time.Duration {
	if a >= float64(n) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(ErlangC(n, a) * float64(handlingMean) / (float64(n) - a))
}

// ErlangServiceLevel is the share of chats answered within target.
func ErlangServiceLevel(n int, a float64, handlingMean, target time.Duration) float64 {
	if a >= float64(n) {
		return 0
	}
	return 1 - ErlangC(n, a)*math.Exp(-(float64(n)-a)*float64(target)/float64(handlingMean))
}
