package ownership

import (
	"errors"
	"log/slog"
	"strings"
	"time"
)

// Config says where the directory lives and how long a silent node keeps
// its claims. The zero value of each field but Endpoints and Node means
// its default.
type Config struct {
	// Endpoints are etcd's client URLs, such as "http://127.0.0.1:2379".
	// Required.
	Endpoints []string
	// Node is this node's name: the value of every key it holds, so the
	// name a redirected caller is sent to. Required.
	Node string
	// Prefix is put before every key; default "/sb/own/". A "/" is added
	// when it does not end with one.
	Prefix string
	// TTL is the lease's time to live: how long after its last renewal a
	// silent node's keys survive, so how long its actors wait to move
	// after it dies. etcd counts whole seconds (it is rounded up) and
	// may raise it to its own minimum; default 2s.
	TTL time.Duration
	// CallTimeout bounds each call to etcd (an acquire, a lookup, a
	// release, one renewal, the revoke at Close), so that an etcd that
	// does not answer gives ErrUnavailable quickly instead of a hang;
	// default 500ms.
	CallTimeout time.Duration
	// DialTimeout bounds Open: connecting to etcd and granting the
	// lease; default 5s.
	DialTimeout time.Duration
	// Logger gets the lease's renewals that fail and its loss; default:
	// logs are discarded.
	Logger *slog.Logger
}

// Defaults of Config's fields.
const (
	DefaultPrefix      = "/sb/own/"
	DefaultTTL         = 2 * time.Second
	DefaultCallTimeout = 500 * time.Millisecond
	DefaultDialTimeout = 5 * time.Second
)

// withDefaults fills in the defaults, or says what is missing.
func (c Config) withDefaults() (Config, error) {
	if len(c.Endpoints) == 0 {
		return c, errors.New("no etcd endpoints")
	}
	if c.Node == "" {
		return c, errors.New("no node name")
	}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if !strings.HasSuffix(c.Prefix, "/") {
		c.Prefix += "/"
	}
	if c.TTL <= 0 {
		c.TTL = DefaultTTL
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = DefaultCallTimeout
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// ttlSeconds is the TTL as etcd takes it: whole seconds, rounded up.
func (c Config) ttlSeconds() int64 {
	return int64((c.TTL + time.Second - 1) / time.Second)
}
