// Package etcdtest runs a real etcd for tests: Debian's etcd-server (3.4)
// as a child process, one member on 127.0.0.1 with free client and peer
// ports and its data in the test's temporary directory. Tests can stop,
// restart, pause and resume it, to see what their code does when etcd
// is gone or does not answer.
//
// Only tests import it: the layer test keeps it out of the binary. Start
// skips the test when etcd is not installed, or fails it when
// REQUIRE_ETCD is set (CI sets it to 1).
//
// An Etcd is driven from the test's goroutine (Restart may call
// t.Fatal); its methods lock, so a cleanup or another goroutine may call
// Stop at any time.
package etcdtest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/switchboard-chat/switchboard/actors/ownership/etcdproc"
)

// readyTimeout bounds the wait for a started etcd to answer. A fresh
// member answers in about 0.2 s here; a restarted one needs an election
// (the election timeout below, 0.5 s).
const readyTimeout = 15 * time.Second

// Etcd is a running (or stopped, or paused) etcd.
type Etcd struct {
	t       testing.TB
	bin     string
	data    string // --data-dir
	logPath string // etcd's log and its stdout and stderr
	client  string // client URL
	peer    string // peer URL

	mu   sync.Mutex
	proc *process // nil while stopped
}

// process is one run of etcd.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when it has been waited for
}

// Path is the etcd binary (etcdproc.Path).
func Path() string { return etcdproc.Path() }

// Require returns the etcd binary (Path), or skips t when it is not
// installed, or fails t then when REQUIRE_ETCD is set (CI sets it).
func Require(t testing.TB) string {
	t.Helper()
	bin := Path()
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("REQUIRE_ETCD") != "" {
			t.Fatalf("etcd is not installed (apt-get install etcd-server, or set ETCD_BIN) and REQUIRE_ETCD is set: %v", err)
		}
		t.Skip("etcd is not installed (apt-get install etcd-server)")
	}
	return bin
}

// Start runs etcd for t and stops it at t.Cleanup. When t fails, the tail
// of etcd's log goes to t.Log.
func Start(t testing.TB) *Etcd {
	t.Helper()
	bin := Require(t)
	dir := t.TempDir()
	e := &Etcd{t: t, bin: bin, data: filepath.Join(dir, "data"), logPath: filepath.Join(dir, "etcd.log")}
	t.Cleanup(func() {
		e.Stop()
		if t.Failed() {
			t.Logf("etcd log (%s), last lines:\n%s", e.logPath, e.tail(40))
		}
	})
	// A free port can be taken between finding and binding it: try again
	// on new ports, with a new data directory (the old one names the old
	// peer URL).
	var err error
	for range 3 {
		e.client, e.peer = "http://"+freeAddr(t), "http://"+freeAddr(t)
		os.RemoveAll(e.data)
		if err = e.start(); err == nil {
			return e
		}
	}
	t.Fatalf("etcd did not start: %v\n%s", err, e.tail(40))
	return nil
}

// Endpoints are the client URLs to give an etcd client.
func (e *Etcd) Endpoints() []string { return []string{e.client} }

// Client returns a plain etcd client for the test to act behind the back
// of the code under test (revoke a lease, read a key); it is closed at
// t.Cleanup.
func (e *Etcd) Client() *clientv3.Client {
	e.t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: e.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { cli.Close() })
	return cli
}

// Stop kills etcd (SIGKILL, as a crash: what it synced survives) and
// waits for it to exit. Stopping a stopped etcd does nothing.
func (e *Etcd) Stop() {
	e.mu.Lock()
	p := e.proc
	e.proc = nil
	e.mu.Unlock()
	if p == nil {
		return
	}
	p.cmd.Process.Kill() // a stopped (paused) process is killed too
	<-p.exited
}

// Restart stops etcd if it runs and starts it again on the same ports
// and data, and waits until it answers. Leases survive, and etcd extends
// them as its new leader takes over.
func (e *Etcd) Restart() {
	e.t.Helper()
	e.Stop()
	if err := e.start(); err != nil {
		e.t.Fatalf("etcd did not restart: %v\n%s", err, e.tail(40))
	}
}

// Pause stops etcd's process (SIGSTOP): it keeps its sockets open and
// answers nothing, as a hung or cut-off server. Resume lets it go on.
// The signal takes effect a moment after it is sent (each thread stops
// when the kernel next schedules it), and until then etcd may still
// answer, so Pause returns once every thread of etcd is stopped.
func (e *Etcd) Pause() {
	e.t.Helper()
	e.signal(syscall.SIGSTOP)
	pid := e.pid()
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !stopped(pid) {
		if time.Now().After(deadline) {
			e.t.Fatalf("etcd (pid %d) not stopped 5s after SIGSTOP", pid)
		}
		<-tick.C
	}
}

// Resume continues a paused etcd (SIGCONT).
func (e *Etcd) Resume() { e.signal(syscall.SIGCONT) }

func (e *Etcd) signal(sig syscall.Signal) {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.proc == nil {
		e.t.Fatalf("etcd is not running (signal %v)", sig)
	}
	if err := e.proc.cmd.Process.Signal(sig); err != nil {
		e.t.Fatalf("signal %v to etcd: %v", sig, err)
	}
}

// pid is the running etcd's process id.
func (e *Etcd) pid() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.proc.cmd.Process.Pid
}

// stopped reports whether every thread of process pid is stopped by a
// signal (state T in /proc/pid/task/*/stat).
func stopped(pid int) bool {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(tasks) == 0 {
		return false
	}
	for _, task := range tasks {
		data, err := os.ReadFile(task)
		if err != nil {
			return false
		}
		// The state follows the command name, which is in parentheses
		// and may hold spaces: "pid (comm) S ...".
		i := bytes.LastIndexByte(data, ')')
		if i < 0 || i+2 >= len(data) || data[i+2] != 'T' {
			return false
		}
	}
	return true
}

// start runs etcd on e's ports and data and waits until it answers, or
// returns why not.
func (e *Etcd) start() error {
	log, err := os.OpenFile(e.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer log.Close() // the child has its own copy
	cmd := exec.Command(e.bin, e.args()...)
	cmd.Env = etcdproc.Env()
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return err
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(p.exited) }()
	if err := e.waitReady(p); err != nil {
		cmd.Process.Kill()
		<-p.exited
		return err
	}
	e.mu.Lock()
	e.proc = p
	e.mu.Unlock()
	return nil
}

// args are etcd's flags: one member named etcdtest, its logs in a file.
func (e *Etcd) args() []string {
	return etcdproc.Args("etcdtest", e.data, e.client, e.peer, e.logPath)
}

// waitReady polls etcd's /health until it says healthy (it has a leader
// and serves a read), the process exits, or readyTimeout passes.
func (e *Etcd) waitReady(p *process) error {
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(readyTimeout)
	for {
		if etcdproc.Healthy(hc, e.client) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("etcd did not answer on %s within %s", e.client, readyTimeout)
		}
		select {
		case <-p.exited:
			return fmt.Errorf("etcd exited: %v", p.cmd.ProcessState)
		case <-time.After(20 * time.Millisecond): // a poll interval, not a wait for an outcome
		}
	}
}

// tail is the last n lines of etcd's log.
func (e *Etcd) tail(n int) string {
	data, err := os.ReadFile(e.logPath)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// freeAddr is a 127.0.0.1 address nothing listens on now.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}
