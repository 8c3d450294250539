package bench

import (
	"bytes"
	"context"
	"fmt"
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
