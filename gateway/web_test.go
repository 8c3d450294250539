package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestConsoleBudget: everything the console may load (its modules, the
// shared ones, its stylesheet, the admin pages included) transfers under
// 200 KB gzipped.
func TestConsoleBudget(t *testing.T) {
	web := loadWebAssets()
	total := 0
	for p := range web {
		if strings.HasPrefix(p, "/console/") || strings.HasPrefix(p, "/lib/") {
			gz, _ := web.Size(p)
			total += gz
		}
	}
	t.Logf("console, gzipped: %d bytes", total)
	if total == 0 || total > 200<<10 {
		t.Fatalf("the console is %d bytes gzipped; the budget is 200 KB", total)
	}
}

// TestWebHeaders: pages carry the strict CSP and refuse framing; assets
// are served gzipped to browsers that accept it, and a file that is not
// there is a typed NOT_FOUND.
func TestWebHeaders(t *testing.T) {
	s := testServer(t)
	get := func(path, enc string) *http.Response {
		req := httptest.NewRequest("GET", path, nil)
		if enc != "" {
			req.Header.Set("Accept-Encoding", enc)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		return w.Result()
	}
	res := get("/", "")
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP %q allows inline script or eval", csp)
	}
	if res.Header.Get("X-Frame-Options") != "DENY" || res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Errorf("/: %d, %v", res.StatusCode, res.Header)
	}
	if res := get("/console/app.js", "br, gzip"); res.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(res.Header.Get("Content-Type"), "javascript") {
		t.Errorf("app.js: %v", res.Header)
	}
	if res := get("/console/app.js", "gzip;q=0"); res.Header.Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0 got %v", res.Header)
	}
	if res := get("/console/nothing.js", ""); res.StatusCode != 404 || !strings.Contains(res.Header.Get("Content-Type"), "json") {
		t.Errorf("missing file: %d %v", res.StatusCode, res.Header)
	}
	if res := get("/console/index.html", ""); res.StatusCode != 404 {
		t.Errorf("a page by its file name: %d", res.StatusCode)
	}
	if ws := get("/widget/", ""); !strings.Contains(ws.Header.Get("Content-Security-Policy"), "frame-ancestors 'self'") || ws.Header.Get("X-Frame-Options") != "" {
		t.Errorf("widget frame: %v", ws.Header)
	}
}
