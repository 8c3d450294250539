package gateway

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/coder/websocket"

	"github.com/switchboard-chat/switchboard/messages"
)

// Client speaks the wire protocol from the other side: the terminal client,
// the tests and the load harness use it. Received envelopes queue up
// without bound until Recv takes them, so a client never stalls the server.
type Client struct {
	ws   *websocket.Conn
	typ  websocket.MessageType
	ref  atomic.Uint64
	mu   sync.Mutex
	cond chan struct{} // closed and replaced when something arrives
	in   []*messages.Envelope
	err  error
	done chan struct{}
}

// ClientOptions configures Dial. The zero value means binary frames.
type ClientOptions struct {
	// JSON sends text frames with protojson instead of binary protobuf.
	JSON bool
	// Header is sent with the upgrade request (for example Origin).
	Header http.Header
	// ReadLimit is the largest frame accepted. Default 1 MiB.
	ReadLimit int64
}

// Dial opens a websocket to url (ws://host:port/ws/visitor or /ws/agent).
func Dial(ctx context.Context, url string, opts ClientOptions) (*Client, error) {
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: opts.Header})
	if err != nil {
		return nil, err
	}
	if opts.ReadLimit <= 0 {
		opts.ReadLimit = 1 << 20
	}
	ws.SetReadLimit(opts.ReadLimit)
	c := &Client{ws: ws, typ: websocket.MessageBinary, cond: make(chan struct{}), done: make(chan struct{})}
	if opts.JSON {
		c.typ = websocket.MessageText
	}
	go c.read()
	return c, nil
}

func (c *Client) read() {
	defer close(c.done)
	for {
		typ, data, err := c.ws.Read(context.Background())
		var env *messages.Envelope
		if err == nil {
			var derr *messages.Error
			if env, derr = DecodeFrame(typ, data); derr != nil {
				err = derr
			}
		}
		c.mu.Lock()
		if err != nil {
			c.err = err
		} else {
			c.in = append(c.in, env)
		}
		close(c.cond)
		c.cond = make(chan struct{})
		c.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// Send writes env with a fresh ref and returns the ref.
func (c *Client) Send(ctx context.Context, env *messages.Envelope) (uint64, error) {
	env.Ref = c.ref.Add(1)
	return env.Ref, c.SendRaw(ctx, env)
}

// SendRaw writes env as it is.
func (c *Client) SendRaw(ctx context.Context, env *messages.Envelope) error {
	data, err := EncodeFrame(c.typ, env)
	if err != nil {
		return err
	}
	return c.ws.Write(ctx, c.typ, data)
}

// SendFrame writes raw bytes as a frame of the given kind (for tests of bad
// input).
func (c *Client) SendFrame(ctx context.Context, typ websocket.MessageType, data []byte) error {
	return c.ws.Write(ctx, typ, data)
}

// Recv returns the next envelope, waiting until one arrives, the socket
// closes (the error says how: websocket.CloseStatus reads the code) or
// ctx ends.
func (c *Client) Recv(ctx context.Context) (*messages.Envelope, error) {
	return c.Await(ctx, func(*messages.Envelope) bool { return true })
}

// Await takes the first envelope, received or yet to come, for which match
// is true. Envelopes it passes over stay queued, in order, for later Recv
// and Await calls.
func (c *Client) Await(ctx context.Context, match func(*messages.Envelope) bool) (*messages.Envelope, error) {
	scanned := 0
	for {
		c.mu.Lock()
		for i := scanned; i < len(c.in); i++ {
			if match(c.in[i]) {
				env := c.in[i]
				c.in = append(c.in[:i], c.in[i+1:]...)
				c.mu.Unlock()
				return env, nil
			}
		}
		scanned = len(c.in)
		err, wait := c.err, c.cond
		c.mu.Unlock()
		if err != nil {
			return nil, err
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Call sends env and waits for the envelope that carries its ref (an Ack,
// an Error, or a ref'd answer such as ChatRefused). An Error comes back as
// the error too. Other envelopes stay queued.
func (c *Client) Call(ctx context.Context, env *messages.Envelope) (*messages.Envelope, error) {
	ref, err := c.Send(ctx, env)
	if err != nil {
		return nil, err
	}
	got, err := c.Await(ctx, func(e *messages.Envelope) bool { return e.GetRef() == ref })
	if err != nil {
		return nil, err
	}
	if e := got.GetError(); e != nil {
		return got, e
	}
	return got, nil
}

// Pending returns how many received envelopes wait to be taken.
func (c *Client) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.in)
}

// Close closes the socket normally.
func (c *Client) Close() error {
	err := c.ws.Close(websocket.StatusNormalClosure, "")
	<-c.done
	return err
}

// CloseNow drops the socket without a close handshake.
func (c *Client) CloseNow() {
	c.ws.CloseNow()
	<-c.done
}

// Closed returns the error that ended the socket, or nil while it is open.
func (c *Client) Closed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// CloseCode returns the close code the server sent, or -1.
func CloseCode(err error) websocket.StatusCode {
	return websocket.CloseStatus(err)
}

// Hello says Hello and waits for the Welcome or the Error that answers it
// (both carry the Hello's ref).
func (c *Client) Hello(ctx context.Context, h *messages.Hello) (*messages.Welcome, error) {
	ref, err := c.Send(ctx, &messages.Envelope{Body: &messages.Envelope_Hello{Hello: h}})
	if err != nil {
		return nil, err
	}
	env, err := c.Await(ctx, func(e *messages.Envelope) bool {
		return e.GetRef() == ref && (e.GetWelcome() != nil || e.GetError() != nil)
	})
	if err != nil {
		return nil, err
	}
	if e := env.GetError(); e != nil {
		return nil, e
	}
	return env.GetWelcome(), nil
}
