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
	conns := make([]*wsc, n)
	errs := make(chan error, n)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				welcome := make(chan struct{}, 1)
				c, err := dialWS(ctx, url, func(env *messages.Envelope) {
					if env.GetWelcome() != nil {
						welcome <- struct{}{}
					}
				})
				if err == nil {
					err = c.send(&messages.Envelope{Ref: 1, Body: &messages.Envelope_Hello{Hello: &messages.Hello{}}})
				}
				if err == nil {
					select {
					case <-welcome:
					case <-c.done:
						err = fmt.Errorf("connection %d closed before its Welcome: %v", i, c.err)
					case <-time.After(30 * time.Second):
						err = fmt.Errorf("connection %d: no Welcome within 30 s", i)
					}
				}
				if err != nil {
					errs <- err
					continue
				}
				conns[i] = c
			}
		}()
	}
	for i := 0; i < n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.closeNow()
			}
		}
	}()
	select {
	case err := <-errs:
		return err
	default:
	}
	fmt.Fprintf(out, "holding %d\n", n)
	<-ctx.Done()
	return nil
}
