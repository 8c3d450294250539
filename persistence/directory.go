package persistence

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// PutDepartment durably creates or replaces a department.
func (s *Store) PutDepartment(d *messages.Department, done func(error)) {
	s.putOne(departmentKey(d.GetId()), d, done)
}

// DeleteDepartment durably removes a department and its canned replies.
func (s *Store) DeleteDepartment(id string, done func(error)) {
	muts, err := s.cannedDeletes(id, "")
	if err != nil {
		done(err)
		return
	}
	s.submit(append(muts, del(departmentKey(id))), done)
}

// PutLanguage durably creates or replaces a language.
func (s *Store) PutLanguage(l *messages.Language, done func(error)) {
	s.putOne(languageKey(l.GetCode()), l, done)
}

// DeleteLanguage durably removes a language.
func (s *Store) DeleteLanguage(code string, done func(error)) {
	s.submit([]mutation{del(languageKey(code))}, done)
}

// PutSettings durably replaces the site-wide settings.
func (s *Store) PutSettings(x *messages.Settings, done func(error)) { s.putOne(settingsKey, x, done) }

// Settings returns the site-wide settings (the defaults when none are
// stored).
func (s *Store) Settings() (*messages.Settings, error) {
	x := &messages.Settings{}
	if _, err := s.get(settingsKey, x); err != nil {
		return nil, err
	}
	return x, nil
}

// PutSignIn durably replaces the directory sign-in settings.
func (s *Store) PutSignIn(x *messages.SignInSettings, done func(error)) { s.putOne(signInKey, x, done) }

// SignIn returns the directory sign-in settings (none: empty).
func (s *Store) SignIn() (*messages.SignInSettings, error) {
	x := &messages.SignInSettings{}
	if _, err := s.get(signInKey, x); err != nil {
		return nil, err
	}
	return x, nil
}

// PutRole durably creates or replaces a custom role.
func (s *Store) PutRole(r *messages.Role, done func(error)) {
	s.putOne(roleKey(r.GetId()), r, done)
}

// DeleteRole durably removes a custom role.
func (s *Store) DeleteRole(id string, done func(error)) {
	s.submit([]mutation{del(roleKey(id))}, done)
}

// Role returns a custom role, or nil when there is none.
func (s *Store) Role(id string) (*messages.Role, error) {
	r := &messages.Role{}
	if ok, err := s.get(roleKey(id), r); !ok {
		return nil, err
	}
	return r, nil
}

// Roles returns every custom role, ordered by id.
func (s *Store) Roles() ([]*messages.Role, error) {
	return scanAll(s, []byte(prefixRole), func() *messages.Role { return &messages.Role{} })
}

// PutAgent durably creates or replaces a staff account and its login index
// entry; previousLogin, when not empty and different, is unlinked.
func (s *Store) PutAgent(a *messages.Agent, previousLogin string, done func(error)) {
	m, err := set(staffKey(a.GetId()), a)
	if err != nil {
		done(err)
		return
	}
	muts := []mutation{m, {key: loginKey(a.GetLogin()), value: []byte(a.GetId())}}
	if previousLogin != "" && string(loginKey(previousLogin)) != string(loginKey(a.GetLogin())) {
		muts = append(muts, del(loginKey(previousLogin)))
	}
	s.submit(muts, done)
}

// PutAgentRecords durably replaces several staff accounts in one batch,
// all or none (their logins do not change).
func (s *Store) PutAgentRecords(as []*messages.Agent, done func(error)) {
	var muts []mutation
	for _, a := range as {
		m, err := set(staffKey(a.GetId()), a)
		if err != nil {
			done(err)
			return
		}
		muts = append(muts, m)
	}
	s.submit(muts, done)
}

// DeleteAgent durably removes a staff account, its login, its snapshot
// and its own canned replies.
func (s *Store) DeleteAgent(a *messages.Agent, done func(error)) {
	muts, err := s.cannedDeletes("", a.GetId())
	if err != nil {
		done(err)
		return
	}
	s.submit(append(muts, del(staffKey(a.GetId())), del(loginKey(a.GetLogin())), del(agentSnapKey(a.GetId()))), done)
}

func (s *Store) putOne(key []byte, m proto.Message, done func(error)) {
	mut, err := set(key, m)
	if err != nil {
		done(err)
		return
	}
	s.submit([]mutation{mut}, done)
}

// Department returns a department, or nil when there is none.
func (s *Store) Department(id string) (*messages.Department, error) {
	d := &messages.Department{}
	if ok, err := s.get(departmentKey(id), d); !ok {
		return nil, err
	}
	return d, nil
}

// Departments returns every department, ordered by id.
func (s *Store) Departments() ([]*messages.Department, error) {
	return scanAll(s, []byte(prefixDep), func() *messages.Department { return &messages.Department{} })
}

// Language returns a language, or nil when there is none.
func (s *Store) Language(code string) (*messages.Language, error) {
	l := &messages.Language{}
	if ok, err := s.get(languageKey(code), l); !ok {
		return nil, err
	}
	return l, nil
}

// Languages returns every language, ordered by code.
func (s *Store) Languages() ([]*messages.Language, error) {
	return scanAll(s, []byte(prefixLang), func() *messages.Language { return &messages.Language{} })
}

// Agent returns a staff account, or nil when there is none.
func (s *Store) Agent(id string) (*messages.Agent, error) {
	a := &messages.Agent{}
	if ok, err := s.get(staffKey(id), a); !ok {
		return nil, err
	}
	return a, nil
}

// AgentByLogin returns the staff account with this login (case does not
// matter), or nil when there is none.
func (s *Store) AgentByLogin(login string) (*messages.Agent, error) {
	v, ok, err := s.getRaw(loginKey(login))
	if err != nil {
		return nil, fmt.Errorf("persistence: login %q: %w", login, err)
	}
	if !ok {
		return nil, nil
	}
	return s.Agent(string(v))
}

// Agents returns every staff account, ordered by id.
func (s *Store) Agents() ([]*messages.Agent, error) {
	return scanAll(s, []byte(prefixStaff), func() *messages.Agent { return &messages.Agent{} })
}

// Secret returns the secret called name, creating it from n random bytes
// (and syncing it) when absent. created says whether this call made it.
// Not for actors: it may wait on an fsync.
func (s *Store) Secret(name string, n int) (secret []byte, created bool, err error) {
	fresh := make([]byte, n)
	if _, err := rand.Read(fresh); err != nil {
		return nil, false, fmt.Errorf("persistence: secret %q: %w", name, err)
	}
	return s.SecretOr(name, fresh)
}

// SetSecret durably replaces the secret called name. Not for actors.
func (s *Store) SetSecret(name string, value []byte) error {
	return s.writeSync([]mutation{{key: secretKey(name), value: append([]byte(nil), value...)}})
}

// SecretOr returns the secret called name, storing value (synced) as that
// secret when there is none yet. created says whether this call stored it.
// Not for actors: it may wait on an fsync.
func (s *Store) SecretOr(name string, value []byte) (secret []byte, created bool, err error) {
	v, ok, err := s.getRaw(secretKey(name))
	if err != nil {
		return nil, false, fmt.Errorf("persistence: secret %q: %w", name, err)
	}
	if ok {
		return v, false, nil
	}
	if err := s.SetSecret(name, value); err != nil {
		return nil, false, err
	}
	return append([]byte(nil), value...), true, nil
}

// RevokeSession durably marks a session as logged out until its token
// expires. Not for actors: it waits for the fsync.
func (s *Store) RevokeSession(sid string, until time.Time) error {
	return s.writeSync([]mutation{{key: revokedKey(sid), value: binary.BigEndian.AppendUint64(nil, uint64(until.UnixMilli()))}})
}

// SessionRevoked reports whether a session was logged out.
func (s *Store) SessionRevoked(sid string) (bool, error) {
	_, ok, err := s.getRaw(revokedKey(sid))
	return ok, err
}
