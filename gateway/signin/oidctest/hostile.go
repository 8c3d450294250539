package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Mode is what the hostile provider's token endpoint answers.
type Mode int

const (
	// Valid: a good ID token (the control case).
	Valid Mode = iota
	// Forged: signed by a key the provider does not publish, under the
	// published key's id.
	Forged
	// Expired: expired an hour ago.
	Expired
	// WrongAudience: issued to another client.
	WrongAudience
	// WrongNonce: carries another sign-in's nonce.
	WrongNonce
	// Rotated: signed by a new key, published from then on (a key
	// rotation the relying party must follow).
	Rotated
	// NoLogin: no preferred_username claim.
	NoLogin
)

// Hostile is a small OpenID Provider whose authorize endpoint signs the
// user in at once and whose token endpoint answers as its Mode says.
type Hostile struct {
	Issuer, CAPEM string
	// ClientID is the audience of its valid tokens.
	ClientID string

	mu     sync.Mutex
	mode   Mode
	keys   []*jose.JSONWebKey // published; the last one signs
	forger *jose.JSONWebKey
	nonces map[string]string // code -> nonce
	claims map[string]any    // the user's claims besides the registered ones
}

// NewHostile starts a hostile provider for clientID whose one user has
// login and groups.
func NewHostile(t testing.TB, clientID, login string, groups ...string) *Hostile {
	t.Helper()
	h := &Hostile{ClientID: clientID, nonces: map[string]string{},
		claims: map[string]any{"preferred_username": login, "name": "Hostile " + login, "email": login + "@example.test", "groups": groups}}
	h.keys = []*jose.JSONWebKey{newKey(t, "k1")}
	h.forger = newKey(t, "k1")
	srv, ca := serveTLS(t, func(issuer string) http.Handler {
		h.Issuer = issuer
		mux := http.NewServeMux()
		mux.HandleFunc("GET /.well-known/openid-configuration", h.discovery)
		mux.HandleFunc("GET /keys", h.jwks)
		mux.HandleFunc("GET /authorize", h.authorize)
		mux.HandleFunc("POST /token", h.token)
		return mux
	})
	h.Issuer, h.CAPEM = srv.URL, ca
	return h
}

// SetMode sets what the next token answers carry.
func (h *Hostile) SetMode(m Mode) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.mode = m
}

func newKey(t testing.TB, id string) *jose.JSONWebKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &jose.JSONWebKey{Key: k, KeyID: id, Algorithm: string(jose.RS256), Use: "sig"}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (h *Hostile) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{
		"issuer": h.Issuer, "authorization_endpoint": h.Issuer + "/authorize",
		"token_endpoint": h.Issuer + "/token", "jwks_uri": h.Issuer + "/keys",
		"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
	})
}

func (h *Hostile) jwks(w http.ResponseWriter, _ *http.Request) {
	h.mu.Lock()
	set := jose.JSONWebKeySet{}
	for _, k := range h.keys {
		set.Keys = append(set.Keys, k.Public())
	}
	h.mu.Unlock()
	writeJSON(w, set)
}

// authorize signs the user in at once: a code for the nonce, back to the
// redirect URI with the state.
func (h *Hostile) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || back.Scheme == "" {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	code := rand.Text()
	h.mu.Lock()
	h.nonces[code] = q.Get("nonce")
	h.mu.Unlock()
	v := back.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (h *Hostile) token(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	nonce, ok := h.nonces[r.FormValue("code")]
	if !ok {
		w.WriteHeader(http.StatusBadRequest)
		writeJSON(w, map[string]string{"error": "invalid_grant"})
		return
	}
	delete(h.nonces, r.FormValue("code"))
	now := time.Now()
	claims := map[string]any{"iss": h.Issuer, "sub": "hostile-sub", "aud": h.ClientID, "nonce": nonce,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for k, v := range h.claims {
		claims[k] = v
	}
	key := h.keys[len(h.keys)-1]
	switch h.mode {
	case Forged:
		key = h.forger
	case Expired:
		claims["iat"], claims["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
	case WrongAudience:
		claims["aud"] = "another-client"
	case WrongNonce:
		claims["nonce"] = "another-sign-in"
	case Rotated:
		key = h.rotate()
	case NoLogin:
		delete(claims, "preferred_username")
	}
	raw, err := sign(key, claims)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, map[string]any{"access_token": rand.Text(), "token_type": "Bearer", "expires_in": 3600, "id_token": raw})
}

// rotate publishes a new signing key (under h.mu).
func (h *Hostile) rotate() *jose.JSONWebKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	next := &jose.JSONWebKey{Key: k, KeyID: "k" + rand.Text()[:8], Algorithm: string(jose.RS256), Use: "sig"}
	h.keys = append(h.keys, next)
	return next
}

func sign(key *jose.JSONWebKey, claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// SetClaim sets one of the user's claims (nil removes it).
func (h *Hostile) SetClaim(name string, v any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if v == nil {
		delete(h.claims, name)
		return
	}
	h.claims[name] = v
}
