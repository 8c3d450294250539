package main

// A contract server of the WhatsApp Business Cloud API (Meta's Graph API)
// for the channel tests: it implements the documented calls the broker
// makes, checks them as the real service would (the bearer token, the
// phone number id, the payload's shape) and answers with the documented
// payloads (testdata/whatsapp). Helpers build Meta's notifications from
// the same examples and post them signed to the broker's webhook.

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// waSent is one message the contract server took.
type waSent struct {
	WAMID string
	Body  map[string]any
}

type waContract struct {
	t       testing.TB
	srv     *httptest.Server
	token   string
	phoneID string

	mu      sync.Mutex
	n       int
	sent    []waSent
	media   map[string]waMedia // media id -> what it holds
	fail    int                // answer the next message calls 500
	refuse  int                // answer the next message calls 400 (131047)
	rejects []string           // why calls were refused
}

type waMedia struct {
	data  []byte
	ctype string
	name  string
}

func newWAContract(t testing.TB, token, phoneID string) *waContract {
	c := &waContract{t: t, token: token, phoneID: phoneID, media: map[string]waMedia{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{phone}/messages", c.messages)
	mux.HandleFunc("POST /{phone}/media", c.upload)
	mux.HandleFunc("GET /{media}", c.mediaURL)
	mux.HandleFunc("GET /download/{media}", c.download)
	c.srv = httptest.NewServer(mux)
	t.Cleanup(c.srv.Close)
	return c
}

// waPayload reads a documented payload and fills its placeholders.
func waPayload(t testing.TB, name string, fill map[string]string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "whatsapp", name))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for k, v := range fill {
		b, _ := json.Marshal(v)
		s = strings.ReplaceAll(s, `"`+k+`"`, string(b))
		s = strings.ReplaceAll(s, k, strings.Trim(string(b), `"`))
	}
	if !json.Valid([]byte(s)) {
		t.Fatalf("%s: not JSON after filling: %s", name, s)
	}
	return []byte(s)
}

// graphError answers as the Graph API refuses a call.
func (c *waContract) graphError(w http.ResponseWriter, status, code int, msg string) {
	c.mu.Lock()
	c.rejects = append(c.rejects, msg)
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(waPayload(c.t, "error_response.json", map[string]string{"ERROR_MESSAGE": msg, "ERROR_CODE": fmt.Sprint(code), "FBTRACE_ID": "AbCdEf"}))
}

// authorized checks the bearer token (the Graph API answers 401, code 190).
func (c *waContract) authorized(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Authorization") != "Bearer "+c.token {
		c.graphError(w, http.StatusUnauthorized, 190, "Error validating access token")
		return false
	}
	return true
}

var waDigits = regexp.MustCompile(`^[0-9]{6,15}$`)

// messages is POST /{phone-number-id}/messages.
func (c *waContract) messages(w http.ResponseWriter, r *http.Request) {
	if !c.authorized(w, r) {
		return
	}
	if r.PathValue("phone") != c.phoneID {
		c.graphError(w, http.StatusBadRequest, 100, "Unsupported post request: unknown phone number id")
		return
	}
	c.mu.Lock()
	fail, refuse := c.fail > 0, c.fail == 0 && c.refuse > 0
	if fail {
		c.fail--
	} else if refuse {
		c.refuse--
	}
	c.mu.Unlock()
	if fail {
		c.graphError(w, http.StatusInternalServerError, 1, "An unknown error occurred")
		return
	}
	if refuse {
		c.graphError(w, http.StatusBadRequest, 131047, "Re-engagement message")
		return
	}
	var b map[string]any
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || json.NewDecoder(r.Body).Decode(&b) != nil {
		c.graphError(w, http.StatusBadRequest, 100, "Invalid parameter: the body is not JSON")
		return
	}
	to, _ := b["to"].(string)
	if b["messaging_product"] != "whatsapp" || !waDigits.MatchString(to) {
		c.graphError(w, http.StatusBadRequest, 100, "Invalid parameter: messaging_product and to are required")
		return
	}
	if e := c.checkMessage(b); e != "" {
		c.graphError(w, http.StatusBadRequest, 100, "Invalid parameter: "+e)
		return
	}
	c.mu.Lock()
	c.n++
	wamid := fmt.Sprintf("wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI%04d", c.n)
	c.sent = append(c.sent, waSent{WAMID: wamid, Body: b})
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Write(waPayload(c.t, "send_response.json", map[string]string{"WA_ID": to, "MESSAGE_ID": wamid}))
}

// checkMessage checks a message's type and its part, as documented.
func (c *waContract) checkMessage(b map[string]any) string {
	part, _ := b[fmt.Sprint(b["type"])].(map[string]any)
	switch b["type"] {
	case "text":
		if s, _ := part["body"].(string); s == "" {
			return "text.body is required"
		}
	case "template":
		lang, _ := part["language"].(map[string]any)
		if n, _ := part["name"].(string); n == "" || lang["code"] == nil {
			return "template.name and template.language.code are required"
		}
		if cs, ok := part["components"].([]any); ok {
			for _, x := range cs {
				comp, _ := x.(map[string]any)
				if comp["type"] != "body" {
					return "a component's type is header, body or button"
				}
			}
		}
	case "image", "document":
		id, _ := part["id"].(string)
		c.mu.Lock()
		_, ok := c.media[id]
		c.mu.Unlock()
		if !ok {
			return "media id " + id + " is unknown"
		}
	default:
		return fmt.Sprintf("type %v is not supported here", b["type"])
	}
	return ""
}

// upload is POST /{phone-number-id}/media (multipart: messaging_product,
// type, file).
func (c *waContract) upload(w http.ResponseWriter, r *http.Request) {
	if !c.authorized(w, r) {
		return
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		c.graphError(w, http.StatusBadRequest, 100, "Invalid parameter: multipart/form-data expected")
		return
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	fields, file := map[string]string{}, waMedia{}
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		data, _ := io.ReadAll(p)
		if p.FormName() == "file" {
			file = waMedia{data: data, ctype: p.Header.Get("Content-Type"), name: p.FileName()}
		} else {
			fields[p.FormName()] = string(data)
		}
	}
	if fields["messaging_product"] != "whatsapp" || fields["type"] == "" || len(file.data) == 0 {
		c.graphError(w, http.StatusBadRequest, 100, "Invalid parameter: messaging_product, type and file are required")
		return
	}
	c.mu.Lock()
	c.n++
	id := fmt.Sprintf("%d", 900000+c.n)
	c.media[id] = file
	c.mu.Unlock()
	writeJSONTest(w, map[string]string{"id": id})
}

// addMedia puts a customer's medium where the broker will fetch it.
func (c *waContract) addMedia(id string, data []byte, ctype string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.media[id] = waMedia{data: data, ctype: ctype}
}

// mediaURL is GET /{media-id}: where to download it.
func (c *waContract) mediaURL(w http.ResponseWriter, r *http.Request) {
	if !c.authorized(w, r) {
		return
	}
	id := r.PathValue("media")
	c.mu.Lock()
	m, ok := c.media[id]
	c.mu.Unlock()
	if !ok {
		c.graphError(w, http.StatusNotFound, 100, "Unsupported get request: no media "+id)
		return
	}
	sum := sha256.Sum256(m.data)
	w.Header().Set("Content-Type", "application/json")
	w.Write(waPayload(c.t, "media_url_response.json", map[string]string{"MEDIA_URL": c.srv.URL + "/download/" + id, "MIME_TYPE": m.ctype,
		"MEDIA_HASH": hex.EncodeToString(sum[:]), "FILE_SIZE": fmt.Sprint(len(m.data)), "MEDIA_ID": id}))
}

// download serves a medium's bytes (with the bearer token, as documented).
func (c *waContract) download(w http.ResponseWriter, r *http.Request) {
	if !c.authorized(w, r) {
		return
	}
	c.mu.Lock()
	m, ok := c.media[r.PathValue("media")]
	c.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", m.ctype)
	w.Write(m.data)
}

func (c *waContract) sentMessages() []waSent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]waSent(nil), c.sent...)
}

func writeJSONTest(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// postWhatsApp posts a notification to a WhatsApp channel's webhook,
// signed with appSecret as Meta signs it ("" secret: unsigned).
func postWhatsApp(t testing.TB, addr, channel, appSecret string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+addr+"/channels/whatsapp/"+channel+"/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if appSecret != "" {
		m := hmac.New(sha256.New, []byte(appSecret))
		m.Write(body)
		req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(m.Sum(nil)))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(data)
}
