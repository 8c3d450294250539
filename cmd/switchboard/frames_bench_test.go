package main

import (
	"testing"

	"github.com/switchboard-chat/switchboard/messages"
)

// BenchmarkFrames measures the gateway's frame rate over one real socket:
// pings go out in windows of 64 and each window's pongs are awaited. The
// reader's per-frame work (the frame deadline, the address's byte budget)
// shows here.
func BenchmarkFrames(b *testing.B) {
	m := startBroker(b, b.TempDir())
	v, _ := newVisitor(b, m.Addr(), false)
	ctx := ctxT(b)
	ping := &messages.Envelope{Body: &messages.Envelope_Ping{Ping: &messages.Ping{}}}
	b.ReportAllocs()
	b.ResetTimer()
	for sent := 0; sent < b.N; {
		n := min(64, b.N-sent)
		for i := 0; i < n; i++ {
			if _, err := v.Send(ctx, ping); err != nil {
				b.Fatal(err)
			}
		}
		for i := 0; i < n; i++ {
			if _, err := v.Await(ctx, func(e *messages.Envelope) bool { return e.GetPong() != nil }); err != nil {
				b.Fatal(err)
			}
		}
		sent += n
	}
}
