// A standby's front: every request and websocket of its clients goes on
// to the node that owns the actors, so any node serves any client.

package main

import (
	"context"
	"log/slog"
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
	rp     *httputil.ReverseProxy
}

// newOwnerProxy forwards as one more reverse proxy in front of the owner:
// the client it names is the one fwd finds (this node's own trusted
// proxies, the same rule as the gateway's), in fwd's header only; what
// the client sent in those headers itself is dropped. The owner believes
// it when it trusts this node (-trusted-proxies with the nodes'
// addresses).
func newOwnerProxy(dir func() *ownership.Directory, fwd *gateway.Forwarding, log *slog.Logger) *ownerProxy {
	p := &ownerProxy{dir: dir, log: log, fwd: fwd}
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

// close forgets the owner: this node is taking the actors over.
func (p *ownerProxy) close() {
	p.mu.Lock()
	p.owner, p.target = "", nil
	p.mu.Unlock()
}

func (p *ownerProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.current() == nil {
		unavailable(w, "no node owns the chats yet (a failover is under way); try again")
		return
	}
	p.rp.ServeHTTP(w, r)
}

// unavailable answers 503, temporary, with the gateway's typed error.
func unavailable(w http.ResponseWriter, why string) {
	e := messages.Errorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "%s", why)
	e.Temporary = true
	gateway.WriteError(w, e)
}
