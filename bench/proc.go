package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a child process of the harness: the broker, the echo baseline or
// a connection holder. It announces readiness with a line on stdout.
type proc struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	ready  string // the rest of the ready line (an address, a count)
	exited chan struct{}
	err    error

	mu     sync.Mutex
	stderr bytes.Buffer // the last lines it logged, for error reports
}

// startProc starts command and waits for a stdout line that begins with
// prefix, or for ctx, a 60 s deadline or the process's exit; with prefix
// "" it returns once the process started (its caller polls for
// readiness).
func startProc(ctx context.Context, name string, cmd *exec.Cmd, prefix string) (*proc, error) {
	p := &proc{name: name, cmd: cmd, exited: make(chan struct{})}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	cmd.Stderr = &tailWriter{p: p}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), prefix); ok {
				select {
				case ready <- strings.TrimSpace(rest):
				default:
				}
			}
		}
		p.err = cmd.Wait()
		close(p.exited)
	}()
	if prefix == "" {
		return p, nil
	}
	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	select {
	case p.ready = <-ready:
		return p, nil
	case <-p.exited:
		return nil, fmt.Errorf("%s exited before it was ready (%v): %s", name, p.err, p.lastLog())
	case <-deadline.C:
		p.kill()
		return nil, fmt.Errorf("%s was not ready within 60 s: %s", name, p.lastLog())
	case <-ctx.Done():
		p.kill()
		return nil, ctx.Err()
	}
}

type tailWriter struct{ p *proc }

func (w *tailWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	w.p.stderr.Write(b)
	if n := w.p.stderr.Len(); n > 16<<10 {
		w.p.stderr.Next(n - 8<<10)
	}
	return len(b), nil
}

func (p *proc) lastLog() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.TrimSpace(p.stderr.String())
}

// stop asks the child to end (SIGTERM, and stdin closed) and waits up to
// 20 s before killing it.
func (p *proc) stop() error {
	p.stdin.Close()
	p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(20 * time.Second)
	defer t.Stop()
	select {
	case <-p.exited:
		if p.err != nil {
			return fmt.Errorf("%s: %v: %s", p.name, p.err, p.lastLog())
		}
		return nil
	case <-t.C:
		p.kill()
		return fmt.Errorf("%s did not stop within 20 s", p.name)
	}
}

func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// usage is what /proc says about a process.
type usage struct {
	CPU     time.Duration // user + system
	RSS     int64         // resident bytes now
	RSSPeak int64         // high-water mark
}

// clockTicks is USER_HZ, 100 on every Linux we run on.
const clockTicks = 100

func procUsage(pid int) (usage, error) {
	var u usage
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, err
	}
	// Fields after the command name, which is in parentheses.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return u, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return u, fmt.Errorf("short /proc/%d/stat", pid)
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	u.CPU = time.Duration(utime+stime) * time.Second / clockTicks
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			u.RSS = kb << 10
		case "VmHWM":
			u.RSSPeak = kb << 10
		}
	}
	return u, nil
}
