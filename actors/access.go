package actors

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
	_ "time/tzdata" // time zones without depending on the host's

	"github.com/switchboard-chat/switchboard/messages"
)

// ValidateAccess checks access rules as an administrator wrote them. The
// error names the field it is about (ip_allow, login_hours, time_zone).
func ValidateAccess(r *messages.AccessRules) *messages.Error {
	for _, p := range r.GetIpAllow() {
		if _, err := netip.ParsePrefix(p); err != nil {
			return messages.FieldErrorf(codeInvalid, "ip_allow", "ip_allow: %q is not a CIDR range such as 203.0.113.0/24", p)
		}
	}
	if _, err := location(r); err != nil {
		return messages.FieldErrorf(codeInvalid, "time_zone", "%v", err)
	}
	for _, w := range r.GetLoginHours() {
		if _, _, err := windowClock(w); err != nil {
			return messages.FieldErrorf(codeInvalid, "login_hours", "%v", err)
		}
		if len(w.GetDays()) == 0 {
			return messages.FieldErrorf(codeInvalid, "login_hours", "login_hours: a window needs days (0 Sunday .. 6 Saturday)")
		}
		for _, d := range w.GetDays() {
			if d > 6 {
				return messages.FieldErrorf(codeInvalid, "login_hours", "login_hours: day %d is not 0 (Sunday) .. 6 (Saturday)", d)
			}
		}
	}
	return nil
}

func location(r *messages.AccessRules) (*time.Location, error) {
	if r.GetTimeZone() == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(r.GetTimeZone())
	if err != nil {
		return nil, fmt.Errorf("time_zone: %q is not a time zone such as Europe/Stockholm", r.GetTimeZone())
	}
	return loc, nil
}

func windowClock(w *messages.WeeklyWindow) (start, length time.Duration, err error) {
	parse := func(s string) (time.Duration, error) {
		t, err := time.Parse("15:04", s)
		if err != nil {
			return 0, fmt.Errorf("login_hours: %q is not a time such as 09:00", s)
		}
		return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
	}
	if start, err = parse(w.GetStart()); err != nil {
		return 0, 0, err
	}
	end, err := parse(w.GetEnd())
	if err != nil {
		return 0, 0, err
	}
	length = end - start
	if length <= 0 {
		length += 24 * time.Hour // runs past midnight
	}
	return start, length, nil
}

// windowEnd returns when the login-hours window that contains now ends
// (the latest, if several do), and false when none does. Rules without
// login hours always allow: the zero time and true.
func windowEnd(r *messages.AccessRules, now time.Time) (time.Time, bool) {
	if len(r.GetLoginHours()) == 0 {
		return time.Time{}, true
	}
	loc, err := location(r)
	if err != nil {
		return time.Time{}, false
	}
	local := now.In(loc)
	var end time.Time
	for _, w := range r.GetLoginHours() {
		start, length, err := windowClock(w)
		if err != nil {
			continue
		}
		// A window of at most a day that contains now started today or
		// yesterday.
		for back := 0; back <= 1; back++ {
			day := local.AddDate(0, 0, -back)
			if !containsDay(w.GetDays(), uint32(day.Weekday())) {
				continue
			}
			from := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, loc).Add(start)
			to := from.Add(length)
			if !now.Before(from) && now.Before(to) && to.After(end) {
				end = to
			}
		}
	}
	return end, !end.IsZero()
}

func containsDay(days []uint32, d uint32) bool {
	for _, x := range days {
		if x == d {
			return true
		}
	}
	return false
}

func describeHours(r *messages.AccessRules) string {
	var parts []string
	names := []string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	for _, w := range r.GetLoginHours() {
		var ds []string
		for _, d := range w.GetDays() {
			if d < 7 {
				ds = append(ds, names[d])
			}
		}
		parts = append(parts, strings.Join(ds, ",")+" "+w.GetStart()+"-"+w.GetEnd())
	}
	tz := r.GetTimeZone()
	if tz == "" {
		tz = "UTC"
	}
	return strings.Join(parts, "; ") + " " + tz
}

// AccessDenied says why a staff member may not be logged in now from addr
// under their role's and their own rules, or "" when they may. until is
// when their current login window ends (zero: no end).
func AccessDenied(rules []*messages.AccessRules, addr string, now time.Time) (why string, until time.Time) {
	ip, ipErr := netip.ParseAddr(addr)
	for _, r := range rules {
		if r == nil {
			continue
		}
		if allow := r.GetIpAllow(); len(allow) > 0 {
			ok := false
			for _, p := range allow {
				if pre, err := netip.ParsePrefix(p); err == nil && ipErr == nil && pre.Contains(ip.Unmap()) {
					ok = true
				}
			}
			if !ok {
				return fmt.Sprintf("your address %s is not in your allow-list", addr), time.Time{}
			}
		}
		end, ok := windowEnd(r, now)
		if !ok {
			return "outside your login hours (" + describeHours(r) + ")", time.Time{}
		}
		if !end.IsZero() && (until.IsZero() || end.Before(until)) {
			until = end
		}
	}
	return "", until
}

// Access returns the access rules that apply to a staff member: their
// role's, then their own.
func (b *Broker) Access(a *messages.Agent) ([]*messages.AccessRules, error) {
	role, err := b.Role(a)
	if err != nil {
		return nil, err
	}
	return []*messages.AccessRules{role.GetAccess(), a.GetAccess()}, nil
}

// BusinessHours says whether a department with these windows takes chats
// at now, and if not, when it opens next (zero when never in the next
// week). No windows: always open.
func BusinessHours(windows []*messages.WeeklyWindow, timeZone string, now time.Time) (open bool, next time.Time) {
	r := &messages.AccessRules{LoginHours: windows, TimeZone: timeZone}
	if _, ok := windowEnd(r, now); ok {
		return true, time.Time{}
	}
	loc, err := location(r)
	if err != nil {
		return false, time.Time{}
	}
	local := now.In(loc)
	for _, w := range windows {
		start, _, err := windowClock(w)
		if err != nil {
			continue
		}
		for ahead := 0; ahead <= 7; ahead++ {
			day := local.AddDate(0, 0, ahead)
			if !containsDay(w.GetDays(), uint32(day.Weekday())) {
				continue
			}
			from := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, loc).Add(start)
			if from.After(now) && (next.IsZero() || from.Before(next)) {
				next = from
			}
		}
	}
	return false, next
}

// nextShiftChange is when the agent's next shift starts or the current one
// ends (zero: no shift in the coming week).
func nextShiftChange(sch *messages.Schedule, now time.Time) time.Time {
	r := &messages.AccessRules{LoginHours: sch.GetShifts(), TimeZone: sch.GetTimeZone()}
	if end, ok := windowEnd(r, now); ok {
		return end
	}
	_, next := BusinessHours(sch.GetShifts(), sch.GetTimeZone(), now)
	return next
}
