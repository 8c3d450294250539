package main

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// The browser tests drive Debian's Chromium with chromedp against the real
// broker (see ../../../shared/design/web-ui.md for the how and the
// pitfalls). One Chromium serves the whole test binary; each page a test
// opens is a tab in a browser context of its own (its own storage, like
// another person's browser).

// chromiumPath returns the browser to drive, or skips the test when none is
// installed. CHROMIUM_BIN chooses one; REQUIRE_CHROMIUM=1 (CI sets it, and
// installs Chromium) fails instead of skipping.
func chromiumPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM_BIN"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium binary found (apt-get install chromium, or set CHROMIUM_BIN)"
	if os.Getenv("REQUIRE_CHROMIUM") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel func()
	tmp    string
	err    error
}

// stopBrowser ends the shared Chromium (TestMain calls it).
func stopBrowser() {
	if browser.cancel != nil {
		browser.cancel()
		os.RemoveAll(browser.tmp)
	}
}

// page is one browser tab and what it logged.
type page struct {
	t      testing.TB
	ctx    context.Context
	cancel func()
	mu     sync.Mutex
	// problems are uncaught exceptions, console.error calls and errors the
	// browser logged (a CSP violation among them); network failures, which
	// a test that restarts the broker causes on purpose, are left out.
	problems []string
}

// newPage opens a tab in a fresh browser context, 1000×700.
func newPage(t testing.TB) *page {
	t.Helper()
	bin := chromiumPath(t)
	browser.once.Do(func() {
		browser.tmp, browser.err = os.MkdirTemp("", "switchboard-chromium-")
		if browser.err != nil {
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(bin),
			chromedp.WindowSize(1000, 700),
			chromedp.Flag("disable-component-update", true),
			chromedp.UserDataDir(filepath.Join(browser.tmp, "profile")),
			// A killed Chromium leaves org.chromium.Chromium.* behind in TMPDIR.
			chromedp.Env("TMPDIR="+browser.tmp),
		)
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelCtx := chromedp.NewContext(alloc)
		browser.ctx, browser.cancel = ctx, func() { cancelCtx(); cancelAlloc() }
		browser.err = chromedp.Do(ctx) // starts the browser; no timeout bound to it
	})
	if browser.err != nil {
		t.Fatalf("start %s: %v", bin, browser.err)
	}
	ctx, cancel := chromedp.NewContext(browser.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	p := &page{t: t, ctx: ctx, cancel: cancel}
	p.attach()
	t.Cleanup(func() {
		if probs := p.takeProblems(); len(probs) > 0 {
			t.Errorf("the browser reported errors:\n  %s", strings.Join(probs, "\n  "))
		}
	})
	return p
}

// attach starts the tab (with no timeout: see the design notes) and
// listens to what it logs.
func (p *page) attach() {
	p.t.Helper()
	err := chromedp.Listen(p.ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			desc := d.Text
			if d.Exception != nil {
				desc += " " + d.Exception.Description
			}
			p.problem("exception: %s (%s:%d)", desc, d.URL, d.LineNumber)
		case *runtime.EventConsoleAPICalled:
			if os.Getenv("CDP_CONSOLE") != "" {
				for _, a := range e.Args {
					p.t.Logf("console: %s%s", a.Value, a.Description)
				}
			}
			if e.Type == runtime.ConsoleAPICalledTypeError {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				p.problem("console.error: %s", strings.Join(parts, " "))
			}
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError && e.Entry.Source != log.EntrySourceNetwork {
				p.problem("%s: %s (%s)", e.Entry.Source, e.Entry.Text, e.Entry.URL)
			}
		}
	})
	if err != nil {
		p.t.Fatalf("open tab: %v", err)
	}
	for _, enable := range []cdp.Command[cdp.Empty, cdp.Empty]{log.Enable, runtime.Enable} {
		if _, err := chromedp.Call(p.ctx, enable, cdp.Empty{}); err != nil {
			p.t.Fatalf("open tab: %s: %v", enable.Method, err)
		}
	}
	if _, err := chromedp.Call(p.ctx, emulation.SetFocusEmulationEnabled,
		emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		p.t.Fatalf("focus emulation: %v", err)
	}
}

func (p *page) problem(format string, args ...any) {
	p.mu.Lock()
	p.problems = append(p.problems, fmt.Sprintf(format, args...))
	p.mu.Unlock()
}

func (p *page) takeProblems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.problems
	p.problems = nil
	return out
}

// do runs actions with a time limit for this step only.
func (p *page) do(what string, d time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, d)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v\n%s", what, err, p.dump())
	}
}

// dump describes the page for a failure message.
func (p *page) dump() string {
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + (document.body ? JSON.stringify(document.body.dataset) + "\n" + document.body.innerText.slice(0, 3000) : "")`))
	if err != nil {
		return "(page state unavailable: " + err.Error() + ")"
	}
	return "page: " + s
}

// close closes the tab (and its frames), as a person leaving.
func (p *page) close() { p.cancel() }

// navigate opens url.
func (p *page) navigate(url string) {
	p.t.Helper()
	p.do("navigate "+url, 15*time.Second, chromedp.Navigate(url))
}

// wait polls a JavaScript expression until it is truthy (15 s at most).
func (p *page) wait(what, expr string) {
	p.t.Helper()
	p.waitLong(what, expr, 15*time.Second)
}

// waitLong is wait with a longer deadline.
func (p *page) waitLong(what, expr string, d time.Duration) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, d)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!("+expr+")", chromedp.WithPollingInterval(25*time.Millisecond), chromedp.WithPollingTimeout(d))); err != nil {
		p.t.Fatalf("wait for %s: %v\n%s", what, err, p.dump())
	}
}

// eval evaluates a JavaScript expression (a promise is awaited).
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("eval %s: %v\n%s", expr, err, p.dump())
	}
	return v
}

// text returns the text of the first element sel matches ("" if none).
func (p *page) text(sel string) string {
	p.t.Helper()
	return eval[string](p, fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, sel))
}

// typeIn types text into the field sel matches, checks every key arrived,
// and (with submit) presses Enter.
func (p *page) typeIn(sel, text string, submit bool) {
	p.t.Helper()
	p.do("focus "+sel, 10*time.Second, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Focus(chromedp.CSS(sel)))
	p.do("type into "+sel, 10*time.Second, chromedp.SendKeys(chromedp.CSS(sel), text))
	p.wait(fmt.Sprintf("the typed value in %s (%q)", sel, text), fmt.Sprintf(`(document.querySelector(%q) || {}).value === %q ||
		(document.body.dataset.typed = JSON.stringify(document.querySelector(%q)?.value), false)`, sel, text, sel))
	if submit {
		p.do("submit "+sel, 10*time.Second, chromedp.SendKeys(chromedp.CSS(sel), "\r"))
	}
}

// click clicks the element sel matches once it is visible.
// A page that re-renders (a list refreshed) may replace the element
// between finding it and clicking it: then it is found again, a few times.
func (p *page) click(sel string) {
	p.t.Helper()
	for try := 1; ; try++ {
		ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
		err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
		cancel()
		if err == nil {
			return
		}
		if try == 3 || !strings.Contains(err.Error(), "Could not find node") {
			p.t.Fatalf("click %s: %v\n%s", sel, err, p.dump())
		}
	}
}

// frame attaches to the cross-site iframe whose URL starts with prefix (it
// is a target of its own, in its own process).
func (p *page) frame(prefix string) *page {
	p.t.Helper()
	var id target.ID
	p.wait("the iframe's document", `document.querySelector("iframe")`)
	deadline := time.Now().Add(15 * time.Second)
	for id == "" {
		infos, err := chromedp.Targets(p.ctx)
		if err != nil {
			p.t.Fatal(err)
		}
		for _, info := range infos {
			if info.Type == "iframe" && strings.HasPrefix(info.URL, prefix) {
				id = info.TargetID
			}
		}
		if id == "" {
			if time.Now().After(deadline) {
				p.t.Fatalf("no iframe target for %s among %d targets", prefix, len(infos))
			}
			chromedp.Run(p.ctx, chromedp.Evaluate[bool](`new Promise(r => setTimeout(() => r(true), 50))`, chromedp.EvalAwaitPromise))
		}
	}
	// WithDetachOnCancel: a plain cancel would close the target, which
	// removes the iframe from the page.
	ctx, cancel := chromedp.NewContext(p.ctx, chromedp.WithTargetID(id), chromedp.WithDetachOnCancel())
	p.t.Cleanup(cancel)
	f := &page{t: p.t, ctx: ctx}
	f.attach()
	p.t.Cleanup(func() {
		if probs := f.takeProblems(); len(probs) > 0 {
			p.t.Errorf("the iframe reported errors:\n  %s", strings.Join(probs, "\n  "))
		}
	})
	return f
}

// screenshot saves a PNG of the page as name under $UI_SCREENSHOT_DIR
// (default: switchboard-screenshots in the system's temporary folder).
func (p *page) screenshot(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	if _, err := png.Decode(bytes.NewReader(b)); err != nil {
		p.t.Fatalf("screenshot %s is not a PNG: %v", name, err)
	}
	dir := screenshotDir(p.t)
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot %s (%d bytes)", path, len(b))
}

func screenshotDir(t testing.TB) string {
	dir := os.Getenv("UI_SCREENSHOT_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "switchboard-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// resize sets the viewport (a phone is 360 wide).
func (p *page) resize(w, h int64) {
	p.t.Helper()
	if _, err := chromedp.Call(p.ctx, emulation.SetDeviceMetricsOverride,
		emulation.SetDeviceMetricsOverrideParams{Width: w, Height: h, DeviceScaleFactor: 1, Mobile: w < 600}); err != nil {
		p.t.Fatalf("resize: %v", err)
	}
}

// crossSite turns http://127.0.0.1:PORT into http://localhost:PORT: another
// site for the browser, as a customer's domain is.
func crossSite(u string) string { return strings.Replace(u, "127.0.0.1", "localhost", 1) }
