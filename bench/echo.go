package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-chat/switchboard/messages"
)

// ServeEcho runs the baseline: a plain coder/websocket server that writes
// every frame back on the socket it came from, with no routing, actors or
// storage. It prints "Listening on http://ADDR" to out once it accepts and
// serves until ctx ends.
func ServeEcho(ctx context.Context, addr string, out io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		wg.Add(1)
		defer wg.Done()
		ws.SetReadLimit(1 << 20)
		for {
			typ, data, err := ws.Read(r.Context())
			if err != nil {
				ws.CloseNow()
				return
			}
			if err := ws.Write(r.Context(), typ, data); err != nil {
				ws.CloseNow()
				return
			}
		}
	})}
	fmt.Fprintf(out, "Listening on http://%s\n", ln.Addr())
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Hold opens n idle visitor connections to the broker at url (each one
// says Hello and gets its Welcome), prints "holding N" to out, and keeps
// them open until ctx ends. The harness runs it in child processes, so the
// broker's memory per connection is measured with many connections and
// without the generator's own file-descriptor limit.
func Hold(ctx context.Context, url string, n int, out io.Writer) error {
	s := newSim(url, 0, 0)
	peers := make([]*peer, n)
	defer func() {
		for _, p := range peers {
			if p != nil {
				p.c.closeNow()
			}
		}
	}()
	if err := parallel(ctx, n, 32, func(i int) error {
		p := s.newPeer(kindVisitor)
		if err := p.connect(ctx, "", &messages.Hello{}); err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
		peers[i] = p
		return nil
	}); err != nil {
		return err
	}
	fmt.Fprintf(out, "holding %d\n", n)
	<-ctx.Done()
	return nil
}
