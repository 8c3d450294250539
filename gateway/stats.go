package gateway

import (
	"net/http"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

// Statistics over HTTP (GET /api/stats, and as CSV): who may read which
// figures (actors.StatsScope), the period asked for, and the answer. The
// figures come from the store's projection (persistence/stats*.go).

func (s *Server) statsRoutes() {
	s.route("GET /api/stats", s.stats)
	s.route("GET /api/stats.csv", s.stats)
}

// statsParams are GET /api/stats' query parameters.
var statsParams = map[string]bool{"department": true, "agent": true, "from": true, "to": true,
	"period": true, "tz": true, "bucket": true}

// The longest periods: a year, and a month in hourly buckets.
const (
	maxStatsDays     = 366
	maxStatsHourDays = 31
)

func (s *Server) stats(w http.ResponseWriter, r *http.Request) {
	c, e := s.staffCaller(r)
	if e != nil {
		writeError(w, e)
		return
	}
	rep, q, e := statsRequest(r, s.b.Now())
	if e != nil {
		writeError(w, e)
		return
	}
	if e := s.statsDims(r, c, rep, q); e != nil {
		writeError(w, e)
		return
	}
	out, err := s.b.Stats(q)
	if err != nil {
		writeError(w, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read the statistics now"))
		return
	}
	out.Department, out.AgentId, out.From, out.To, out.TimeZone, out.Bucket = rep.Department, rep.AgentId, rep.From, rep.To, rep.TimeZone, rep.Bucket
	w.Header().Set("Cache-Control", "no-store")
	if strings.HasSuffix(r.URL.Path, ".csv") || strings.Contains(r.Header.Get("Accept"), "text/csv") {
		writeStatsCSV(w, out)
		return
	}
	writeProto(w, http.StatusOK, out)
}

// statsDims sets q's dimensions from what was asked and what the caller
// may read; a refusal is audited.
func (s *Server) statsDims(r *http.Request, c chatUser, rep *messages.StatsReport, q *messages.StatsQuery) *messages.Error {
	scope, e := s.statsScope(c)
	if e != nil {
		return e
	}
	deny := func(what string) *messages.Error {
		e := errf(messages.ErrorCode_ERROR_CODE_FORBIDDEN, "you may not read the figures of %s", what)
		s.audit(s.clientAddr(r), "permission.denied", c.auditID(), r.Method+" "+r.URL.Path, e.GetMessage(), false)
		return e
	}
	if rep.Department != "" && !scope.MayDepartment(rep.Department) && (rep.AgentId == "" || rep.AgentId != scope.ID) {
		return deny("department " + rep.Department)
	}
	if rep.Department != "" {
		if d, err := s.b.Department(rep.Department); err != nil || d == nil {
			return messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "department", "there is no department %q", rep.Department)
		}
	}
	switch {
	case rep.AgentId != "":
		var e *messages.Error
		q.Dims, e = s.agentDims(scope, rep, deny)
		return e
	case rep.Department != "":
		q.Dims = []string{messages.StatsDepartment(rep.Department)}
	case scope.Everything:
		q.Dims = []string{messages.StatsEverything}
	case len(scope.Departments) > 0:
		for _, d := range scope.Departments {
			q.Dims = append(q.Dims, messages.StatsDepartment(d))
		}
	default:
		// One's own figures: what every member of staff may read.
		rep.AgentId = scope.ID
		q.Dims = []string{messages.StatsAgent(scope.ID)}
	}
	return nil
}

// agentDims are the dimensions of an agent's figures (in rep.Department
// when given, which the caller may read or is their own): all of them
// for themselves and those who read everything; for a supervisor or
// manager, the agent's figures in the departments they oversee only.
func (s *Server) agentDims(scope actors.StatsScope, rep *messages.StatsReport, deny func(string) *messages.Error) ([]string, *messages.Error) {
	a, err := s.b.Agent(rep.AgentId)
	if err != nil {
		return nil, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read accounts now")
	}
	if !scope.MayAgent(a) && rep.Department == "" { // an unknown agent too, but to those who read everything
		return nil, deny("agent " + rep.AgentId)
	}
	if a == nil {
		if !scope.Everything {
			return nil, deny("agent " + rep.AgentId)
		}
		return nil, messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "agent", "there is no agent %q", rep.AgentId)
	}
	switch {
	case rep.Department != "":
		return []string{messages.StatsAgentIn(rep.AgentId, rep.Department)}, nil
	case scope.Everything || rep.AgentId == scope.ID:
		return []string{messages.StatsAgent(rep.AgentId)}, nil
	}
	var out []string
	for _, d := range scope.Departments {
		out = append(out, messages.StatsAgentIn(rep.AgentId, d))
	}
	return out, nil
}

// statsRequest reads GET /api/stats' parameters: the report's heading
// and the store's query (without its dimensions); a bad one is a typed
// error naming it.
func statsRequest(r *http.Request, now time.Time) (*messages.StatsReport, *messages.StatsQuery, *messages.Error) {
	v := r.URL.Query()
	bad := func(field, format string, args ...any) (*messages.StatsReport, *messages.StatsQuery, *messages.Error) {
		return nil, nil, messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, field, format, args...)
	}
	for k, vs := range v {
		if !statsParams[k] {
			return bad(k, "unknown parameter %q", k)
		}
		if len(vs) > 1 {
			return bad(k, "%s is given more than once", k)
		}
	}
	rep := &messages.StatsReport{Department: v.Get("department"), AgentId: v.Get("agent"), TimeZone: v.Get("tz")}
	if rep.TimeZone == "" {
		rep.TimeZone = "UTC"
	}
	loc, err := time.LoadLocation(rep.TimeZone)
	if err != nil || rep.TimeZone == "Local" {
		return bad("tz", "unknown time zone %q (an IANA name such as Europe/Stockholm)", rep.TimeZone)
	}
	from, to, e := statsPeriod(v.Get("period"), v.Get("from"), v.Get("to"), now.In(loc))
	if e != nil {
		return nil, nil, e
	}
	days := to.Sub(from).Hours() / 24
	switch rep.Bucket = v.Get("bucket"); {
	case rep.Bucket == "" && days <= 2:
		rep.Bucket = "hour"
	case rep.Bucket == "":
		rep.Bucket = "day"
	case rep.Bucket != "hour" && rep.Bucket != "day":
		return bad("bucket", "bucket is hour or day")
	}
	switch {
	case days > maxStatsDays:
		return bad("from", "a period is at most %d days", maxStatsDays)
	case rep.Bucket == "hour" && days > maxStatsHourDays:
		return bad("bucket", "hourly buckets cover at most %d days; ask for bucket=day", maxStatsHourDays)
	}
	rep.From, rep.To = from.Format(time.RFC3339), to.Format(time.RFC3339)
	return rep, &messages.StatsQuery{FromMs: from.UnixMilli(), ToMs: to.UnixMilli(), TimeZone: rep.TimeZone,
		Day: rep.Bucket == "day", NowMs: now.UnixMilli()}, nil
}

// statsPeriod is the period [from, to) asked for: a named period (today,
// yesterday, 7d, 30d: whole local days, the last one today), or from and
// to (RFC 3339 instants, or dates: from a date's start to the end of the
// to date). Default: today.
func statsPeriod(period, fromS, toS string, now time.Time) (from, to time.Time, e *messages.Error) {
	bad := func(field, format string, args ...any) (time.Time, time.Time, *messages.Error) {
		return time.Time{}, time.Time{}, messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, field, format, args...)
	}
	day := func(t time.Time, add int) time.Time {
		return time.Date(t.Year(), t.Month(), t.Day()+add, 0, 0, 0, 0, t.Location())
	}
	if period != "" && (fromS != "" || toS != "") {
		return bad("period", "give a period or from and to, not both")
	}
	if fromS == "" && toS == "" {
		switch period {
		case "", "today":
			return day(now, 0), day(now, 1), nil
		case "yesterday":
			return day(now, -1), day(now, 0), nil
		case "7d":
			return day(now, -6), day(now, 1), nil
		case "30d":
			return day(now, -29), day(now, 1), nil
		}
		return bad("period", "period is today, yesterday, 7d or 30d")
	}
	if fromS == "" || toS == "" {
		return bad(map[bool]string{true: "from", false: "to"}[fromS == ""], "give both from and to")
	}
	var ok bool
	if from, ok = statsTime(fromS, now.Location(), 0); !ok {
		return bad("from", "from is an RFC 3339 time on a quarter hour, or a date (YYYY-MM-DD)")
	}
	if to, ok = statsTime(toS, now.Location(), 1); !ok {
		return bad("to", "to is an RFC 3339 time on a quarter hour, or a date (YYYY-MM-DD)")
	}
	if !to.After(from) {
		return bad("to", "to must be after from")
	}
	return from, to, nil
}

// statsTime reads an RFC 3339 time on a quarter hour (the figures are
// kept in 15-minute buckets: a period between would be rounded, and say
// so nowhere), or a date in loc (its start, or the next day's start with
// days 1).
func statsTime(x string, loc *time.Location, days int) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, x); err == nil {
		return t.In(loc), t.UnixMilli()%(15*60_000) == 0
	}
	d, err := time.ParseInLocation(time.DateOnly, x, loc)
	if err != nil {
		return time.Time{}, false
	}
	return time.Date(d.Year(), d.Month(), d.Day()+days, 0, 0, 0, 0, loc), true
}
