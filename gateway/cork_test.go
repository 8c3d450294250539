package gateway

import (
	"net"
	"testing"
	"time"
)

// countingConn records every Write that reaches the socket.
type countingConn struct {
	net.Conn
	writes [][]byte
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes = append(c.writes, append([]byte(nil), p...))
	return len(p), nil
}

func (c *countingConn) SetWriteDeadline(time.Time) error { return nil }

func TestCorkGathersWritesIntoOne(t *testing.T) {
	under := &countingConn{}
	c := &corkConn{Conn: under, pre: []byte("ab")}
	c.cork()
	c.Write([]byte("frame1"))
	c.Write([]byte("frame2"))
	if len(under.writes) != 0 {
		t.Fatalf("corked writes reached the socket: %q", under.writes)
	}
	if err := c.uncork(time.Second); err != nil {
		t.Fatal(err)
	}
	if len(under.writes) != 1 || string(under.writes[0]) != "frame1frame2" {
		t.Fatalf("uncork wrote %q, want one write of both frames", under.writes)
	}
	// Uncorked, writes go straight through; an empty uncork writes nothing.
	c.Write([]byte("pong"))
	c.cork()
	c.uncork(time.Second)
	if len(under.writes) != 2 || string(under.writes[1]) != "pong" {
		t.Fatalf("writes = %q", under.writes)
	}
	// Bytes read before the hijack come first.
	buf := make([]byte, 8)
	if n, _ := c.Read(buf); string(buf[:n]) != "ab" {
		t.Fatalf("first read = %q, want the bytes read before the hijack", buf[:n])
	}
}
