// A standby's front: every request and websocket of its clients goes on
// to the node that owns the actors, so any node serves any client.

package main

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"

	"github.com/switchboard-chat/switchboard/actors/ownership"
	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// ownerProxy forwards to the owner's client address, as etcd names it.
type ownerProxy struct {
	dir func() *ownership.Directory
	log *slog.Logger
	fwd *gateway.Forwarding

	mu     sync.Mutex
	owner  string // the owner's node name; "" while none is known
	target *url.URL
	// carried: the websockets forwarded to the current owner, closed when
	// the owner changes (a paused owner's sockets must not live on).
	carried map[*trackedConn]bool
	rp      *httputil.ReverseProxy
}

// newOwnerProxy forwards as one more reverse proxy in front of the owner:
// the client it names is the one fwd finds (this node's own trusted
// proxies, the same rule as the gateway's), in fwd's header only; what
// the client sent in those headers itself is dropped. The owner believes
// it when it trusts this node (-trusted-proxies with the nodes'
// addresses).
func newOwnerProxy(dir func() *ownership.Directory, fwd *gateway.Forwarding, log *slog.Logger) *ownerProxy {
	p := &ownerProxy{dir: dir, log: log, fwd: fwd, carried: map[*trackedConn]bool{}}
	p.rp = &httputil.ReverseProxy{
		// Rewrite: the inbound X-Forwarded-* are removed before it runs.
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(p.current())
			r.Out.Host = r.In.Host // the owner checks origins against the host the client used
			r.Out.Header.Del(fwd.Header())
			r.Out.Header.Set(fwd.Header(), fwd.ClientAddr(r.In))
			proto := "http"
			if r.In.TLS != nil {
				proto = "https"
			} else if v := r.In.Header.Get("X-Forwarded-Proto"); v != "" && fwd.Trusted(fwd.Peer(r.In)) {
				proto = v
			}
			r.Out.Header.Set("X-Forwarded-Proto", proto)
			r.Out.Header.Set("X-Forwarded-Host", r.In.Host)
			r.Out.Header.Set(forwardedBy, "1")
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			p.log.Debug("cluster: forwarding to the owner", "err", err)
			unavailable(w, "the node that owns the chats did not answer; try again")
		},
	}
	return p
}

// follow points the proxy at owner (a node name; "" none known).
func (p *ownerProxy) follow(ctx context.Context, owner string) {
	p.mu.Lock()
	same := owner == p.owner && (owner == "" || p.target != nil)
	p.mu.Unlock()
	if same {
		return
	}
	var target *url.URL
	if owner != "" {
		addr, found, err := p.dir().Lookup(ctx, addrKind, owner)
		if err != nil || !found {
			p.log.Warn("cluster: the owner's address", "owner", owner, "found", found, "err", err)
			owner = ""
		} else {
			target = &url.URL{Scheme: "http", Host: addr}
		}
	}
	p.mu.Lock()
	p.owner, p.target = owner, target
	p.dropCarriedLocked()
	p.mu.Unlock()
	at := ""
	if target != nil {
		at = target.Host
	}
	p.log.Info("cluster: clients go to the owner", "owner", owner, "at", at)
}

func (p *ownerProxy) current() *url.URL {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.target
}

// close forgets the owner, and closes the websockets carried to it: this
// node is taking the actors over, or stopping.
func (p *ownerProxy) close() {
	p.mu.Lock()
	p.owner, p.target = "", nil
	p.dropCarriedLocked()
	p.mu.Unlock()
}

// dropCarriedLocked closes the carried websockets, under p.mu (so their
// own Close, which takes p.mu, is not called here).
func (p *ownerProxy) dropCarriedLocked() {
	for t := range p.carried {
		t.Conn.Close()
	}
	clear(p.carried)
}

// forwardedBy marks a request a standby forwarded: a node that gets one
// back is in a loop (two standbys each taking the other for the owner,
// for a moment) and refuses it rather than send it round.
const forwardedBy = "X-Switchboard-Forwarded"

func (p *ownerProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.current() == nil || r.Header.Get(forwardedBy) != "" {
		unavailable(w, "no node owns the chats yet (a failover is under way); try again")
		return
	}
	p.rp.ServeHTTP(&carrier{ResponseWriter: w, p: p}, r)
}

// carrier records the connection of a websocket the proxy takes over
// (Hijack), so that a change of owner closes it.
type carrier struct {
	http.ResponseWriter
	p *ownerProxy
}

func (c *carrier) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(c.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	t := &trackedConn{Conn: conn, p: c.p}
	c.p.mu.Lock()
	c.p.carried[t] = true
	c.p.mu.Unlock()
	return t, rw, nil
}

// Unwrap lets http.ResponseController reach the writer's other methods.
func (c *carrier) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// trackedConn leaves the carried set when it closes.
type trackedConn struct {
	net.Conn
	p    *ownerProxy
	once sync.Once
}

func (t *trackedConn) Close() error {
	t.once.Do(func() {
		t.p.mu.Lock()
		delete(t.p.carried, t)
		t.p.mu.Unlock()
	})
	return t.Conn.Close()
}

// unavailable answers 503, temporary, with the gateway's typed error.
func unavailable(w http.ResponseWriter, why string) {
	e := messages.Errorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "%s", why)
	e.Temporary = true
	gateway.WriteError(w, e)
}
