package bench

import (
	"bytes"
	"context"
	"fmt"
	rnd "math/rand/v2"
	"net"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// wsc is the load generator's connection: lighter than gateway.Client
// (no receive queue), it hands each envelope to a callback on the reading
// goroutine. Write is safe from any goroutine.
type wsc struct {
	ws   *websocket.Conn
	done chan struct{}
	err  error
}

// dialer shares one transport, so thousands of dials do not each build one.
var dialer = &http.Client{Transport: &http.Transport{
	DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
	MaxIdleConnsPerHost: -1,
}}

func dialWS(ctx context.Context, url string, on func(*messages.Envelope)) (*wsc, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: dialer})
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(4 << 20)
	c := &wsc{ws: ws, done: make(chan struct{})}
	go c.read(on)
	return c, nil
}

func (c *wsc) read(on func(*messages.Envelope)) {
	defer close(c.done)
	var buf bytes.Buffer
	for {
		_, r, err := c.ws.Reader(context.Background())
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		if err != nil {
			c.err = err
			return
		}
		env := &messages.Envelope{}
		if err := proto.Unmarshal(buf.Bytes(), env); err != nil {
			c.err = fmt.Errorf("undecodable frame from the server: %w", err)
			c.ws.CloseNow()
			return
		}
		on(env)
	}
}

func (c *wsc) send(env *messages.Envelope) error {
	data, err := proto.Marshal(env)
	if err != nil {
		return err
	}
	return c.ws.Write(context.Background(), websocket.MessageBinary, data)
}

func (c *wsc) close() {
	c.ws.Close(websocket.StatusNormalClosure, "")
	<-c.done
}

func (c *wsc) closeNow() {
	c.ws.CloseNow()
	<-c.done
}

// A client of a cluster run whose connection dropped tries the nodes in
// turn, from the one after its own, with its token and cursors, until one
// welcomes it (as the protocol allows: any node serves any client, and a
// resume token or session token is good on each). Between two tries it
// waits failoverBackoff, doubling up to failoverBackoffMax, ±25 %: short,
// so that the failover time the harness measures is the cluster's, within
// a quarter of a second. failoverTry bounds one try (dial and Hello).
const (
	failoverBackoff    = 50 * time.Millisecond
	failoverBackoffMax = 250 * time.Millisecond
	failoverTry        = 5 * time.Second
)

// failoverWait is the pause after try number i (from 0).
func failoverWait(i int) time.Duration {
	d := min(failoverBackoff<<min(i, 8), failoverBackoffMax)
	return time.Duration(float64(d) * (0.75 + rnd.Float64()/2))
}
