// Package ldaptest runs a real directory for tests: Debian's slapd
// (OpenLDAP) on 127.0.0.1 with free ports for ldap:// (StartTLS too) and
// ldaps://, a temporary database and TLS from a CA the fixture makes,
// holding a small tree:
//
//	dc=example,dc=com
//	  ou=people   alice (in support), bob (support, hr), carol (disabled:
//	              employeeType=disabled; in support and hr), dave (no group)
//	  ou=groups   support, hr (groupOfNames; the memberof overlay keeps the
//	              users' memberOf in step)
//
// Each user's password is Password(login). Only tests import it: the
// layer test keeps it out of the binary. Start skips the test when slapd
// is not installed, or fails it when REQUIRE_SLAPD=1 (CI).
//
// A Server is used from one test goroutine; slapd itself serves any
// number of connections.
package ldaptest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/switchboard-chat/switchboard/gateway/signin/testca"
)

// The tree's fixed names.
const (
	Base         = "dc=example,dc=com"
	PeopleBase   = "ou=people," + Base
	GroupBase    = "ou=groups," + Base
	RootDN       = "cn=admin," + Base
	RootPassword = "root-secret"
	// UserFilter and DisabledFilter are the settings that fit the tree.
	UserFilter     = "(&(objectClass=inetOrgPerson)(uid={login}))"
	DisabledFilter = "(employeeType=disabled)"
	GroupFilter    = "(&(objectClass=groupOfNames)(member={dn}))"
)

// Server is a running slapd.
type Server struct {
	// URL is ldap://127.0.0.1:port (StartTLS works on it); LDAPSURL is
	// ldaps://127.0.0.1:port.
	URL, LDAPSURL string
	// CAPEM is the CA that signed the server's certificate.
	CAPEM string
	dir   string
	stop  func()
}

// SlapdPath is where Debian installs slapd; SLAPD_BIN overrides it.
func SlapdPath() string {
	if p := os.Getenv("SLAPD_BIN"); p != "" {
		return p
	}
	return "/usr/sbin/slapd"
}

// Start runs slapd for t with the tree, and stops it at t.Cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := SlapdPath()
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("REQUIRE_SLAPD") != "" {
			t.Fatalf("slapd is not installed (apt-get install slapd) and REQUIRE_SLAPD is set: %v", err)
		}
		t.Skip("slapd is not installed (apt-get install slapd)")
	}
	ca := testca.New(t, "Switchboard test directory CA")
	s := &Server{CAPEM: ca.PEM, dir: t.TempDir()}
	cert, key := ca.ServerPEM(t)
	for name, data := range map[string][]byte{"ca.pem": []byte(ca.PEM), "server.pem": cert, "server.key": key, "slapd.conf": []byte(s.config())} {
		if err := os.WriteFile(filepath.Join(s.dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(s.dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	// A free port can be taken between finding and binding it: try again.
	var err error
	for range 3 {
		if err = s.run(t, bin); err == nil {
			s.addTree(t)
			return s
		}
	}
	t.Fatalf("slapd did not start: %v", err)
	return nil
}

// run starts slapd on two free ports and waits until it answers, or
// returns why not.
func (s *Server) run(t testing.TB, bin string) error {
	plain, tls := freePort(t), freePort(t)
	s.URL, s.LDAPSURL = "ldap://127.0.0.1:"+plain, "ldaps://127.0.0.1:"+tls
	// -d keeps slapd in the foreground (its log on stderr), so that the
	// test owns the process.
	cmd := exec.Command(bin, "-f", filepath.Join(s.dir, "slapd.conf"), "-h", s.URL+"/ "+s.LDAPSURL+"/", "-d", "0")
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-exited:
			return fmt.Errorf("slapd exited: %s", out.String())
		default:
		}
		if c, err := ldap.DialURL(s.URL, ldap.DialWithDialer(&net.Dialer{Timeout: time.Second})); err == nil {
			c.Close()
			var once sync.Once
			s.stop = func() { once.Do(stop) }
			t.Cleanup(s.stop)
			return nil
		}
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("slapd did not answer within 15s: %s", out.String())
		}
		select {
		case <-exited:
		case <-time.After(20 * time.Millisecond): // a poll interval, not a wait for an outcome
		}
	}
}

// Stop stops slapd now (a directory that does not answer).
func (s *Server) Stop() { s.stop() }

// freePort is a port nothing listens on now.
func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// config is slapd.conf: the schemas, TLS, one mdb database under Base
// with the memberof overlay.
func (s *Server) config() string {
	return fmt.Sprintf(`include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile %[1]s/slapd.pid
argsfile %[1]s/slapd.args
TLSCACertificateFile %[1]s/ca.pem
TLSCertificateFile %[1]s/server.pem
TLSCertificateKeyFile %[1]s/server.key
database mdb
maxsize 16777216
suffix "%[2]s"
rootdn "%[3]s"
rootpw %[4]s
directory %[1]s/db
overlay memberof
access to attrs=userPassword by anonymous auth by self write by * none
access to * by * read
`, s.dir, Base, RootDN, RootPassword)
}

// lockedBuffer collects slapd's output from its copying goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
