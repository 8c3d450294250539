package gateway

import (
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// logRequests says whether a route's requests are logged, one line each:
// the API and the admin API (not the websockets, the web files or the
// probes, which come by the thousand and say nothing).
func logRequests(pattern string) bool {
	_, path, _ := strings.Cut(pattern, " ")
	return strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/admin/")
}

// statusRecorder keeps the status a handler answered.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// serveLogged runs the route's handler and logs one line: the method, the
// route's pattern (never the path: it can hold ids; never the query or the
// body), the status and the duration.
func (s *Server) serveLogged(w http.ResponseWriter, r *http.Request, pattern string) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w}
	s.mux.ServeHTTP(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	_, route, _ := strings.Cut(pattern, " ")
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "http request",
		slog.String("method", r.Method), slog.String("route", route), slog.Int("status", rec.status),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000))
}
