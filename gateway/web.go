package gateway

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

// The web console, the widget and its loader are plain ES modules, CSS and
// HTML embedded in the binary: no build step, nothing fetched from
// elsewhere. Each file is compressed once, at start, and served gzipped to
// browsers that accept it.
//
//go:embed web
var webFiles embed.FS

// staticFile is one embedded file, ready to serve.
type staticFile struct {
	body, gz []byte
	ctype    string
	etag     string
}

// webAssets maps a URL path ("/console/app.js") to its file.
type webAssets map[string]*staticFile

func loadWebAssets() webAssets {
	root, err := fs.Sub(webFiles, "web")
	if err != nil {
		panic(err)
	}
	out := webAssets{}
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		zw.Write(body)
		zw.Close()
		sum := sha256.Sum256(body)
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		out["/"+p] = &staticFile{body: body, gz: gz.Bytes(), ctype: ctype,
			etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		panic(err)
	}
	return out
}

// Size reports a file's bytes as served: gzipped, and as stored.
func (a webAssets) Size(p string) (gzipped, plain int) {
	f := a[p]
	if f == nil {
		return 0, 0
	}
	return len(f.gz), len(f.body)
}

// The pages' Content-Security-Policy: scripts, styles and connections only
// from the broker itself (no inline script, no eval), pictures also from
// https (staff photos), and no framing (the widget's frame sets its own
// frame-ancestors).
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data: blob:; " +
	"connect-src 'self'; media-src 'self' data:; base-uri 'none'; form-action 'none'; manifest-src 'self'"

// serve writes f with the security headers every web file gets; the
// caller has set what is particular to it (framing, CSP).
func (f *staticFile) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("ETag", f.etag)
	h.Set("Cache-Control", "no-cache") // revalidate: a new binary serves new files at once
	h.Add("Vary", "Accept-Encoding")
	if match := r.Header.Get("If-None-Match"); match != "" && match == f.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.body
	if acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

// webRoutes serves the console at /, the widget's loader at /widget.js,
// the widget's frame under /widget/, and the modules both share under
// /lib/. These are pages, not API: they are not in openapi.json (so they
// are registered on the mux directly, not through handle).
func (s *Server) webRoutes() {
	s.web = loadWebAssets()
	page := func(file string, framing func(http.Header, *http.Request)) http.HandlerFunc {
		f := s.web[file]
		return func(w http.ResponseWriter, r *http.Request) {
			framing(w.Header(), r)
			f.serve(w, r)
		}
	}
	noFraming := func(h http.Header, _ *http.Request) {
		h.Set("Content-Security-Policy", pageCSP+"; frame-ancestors 'none'")
		h.Set("X-Frame-Options", "DENY")
	}
	// The console frames the widget (its own, from the broker) to ask a
	// colleague in an internal live chat: frame-src 'self', nothing else.
	consoleFraming := func(h http.Header, _ *http.Request) {
		h.Set("Content-Security-Policy", pageCSP+"; frame-src 'self'; frame-ancestors 'none'")
		h.Set("X-Frame-Options", "DENY")
	}
	s.mux.HandleFunc("GET /{$}", page("/console/index.html", consoleFraming))
	s.mux.HandleFunc("GET /widget/{$}", page("/widget/index.html", s.widgetFraming))
	s.mux.HandleFunc("GET /widget.js", func(w http.ResponseWriter, r *http.Request) {
		// The loader runs on the customer's page: any site may load it.
		w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
		s.web["/widget.js"].serve(w, r)
	})
	assets := func(w http.ResponseWriter, r *http.Request) {
		f := s.web[r.URL.Path]
		if f == nil || strings.HasSuffix(r.URL.Path, ".html") {
			writeError(w, errf(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "no file %s", r.URL.Path))
			return
		}
		noFraming(w.Header(), r)
		f.serve(w, r)
	}
	for _, dir := range []string{"/lib/", "/console/", "/widget/"} {
		s.mux.HandleFunc("GET "+dir, assets)
	}
}

// widgetFraming lets the widget's frame be shown only on the broker's own
// pages and on the customer sites the administrator lists
// (Settings.widget_origins): frame-ancestors, which every current browser
// honours; X-Frame-Options cannot name several origins, so it is left out
// here.
func (s *Server) widgetFraming(h http.Header, _ *http.Request) {
	ancestors := "'self'"
	if set, err := s.b.Settings(); err == nil {
		for _, o := range set.GetWidgetOrigins() {
			if actors.ValidOrigin(o) { // stored ones are; never let one widen the policy
				ancestors += " " + o
			}
		}
	}
	h.Set("Content-Security-Policy", pageCSP+"; frame-ancestors "+ancestors)
}
