// Lint rules as tests (pebble's internal/lint does the same): what the
// actors package may contain, and which of our packages may import which.

package actors

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// forbiddenShared is what shares memory: locks, channels, goroutines,
// atomics.
var forbiddenShared = regexp.MustCompile(`sync\.(Mutex|RWMutex|WaitGroup|Cond)|\bchan\b|\bgo func|\bgo [a-zA-Z_.]+\(|sync/atomic`)

// allowMarker excuses one line from a lint rule; a reason must follow.
var allowMarker = regexp.MustCompile(`//lint:allow\s+\S`)

// sharedMemory returns the lines of src (file name) that break the
// no-shared-memory rule, as "name:line: text". A line whose comment is
// "//lint:allow <reason>" is excused; the reason is required.
func sharedMemory(name, src string) []string {
	var bad []string
	for i, line := range strings.Split(src, "\n") {
		code, _, _ := strings.Cut(line, "//")
		if forbiddenShared.MatchString(code) && !allowMarker.MatchString(line) {
			bad = append(bad, name+":"+strconv.Itoa(i+1)+": "+strings.TrimSpace(line))
		}
	}
	return bad
}

// TestActorsShareNoMemory enforces the house rule: state lives in actor
// fields only, so the package has no locks, no channels and no goroutines
// of its own. The few lines that need one (dispatcher.go's workers,
// activation.go's spawn locks) say why with //lint:allow on the line.
func TestActorsShareNoMemory(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || strings.HasSuffix(f, ".pb.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range sharedMemory(f, string(data)) {
			t.Error(b)
		}
	}
}

// The exception mechanism excuses the marked line only, and only with a
// reason.
func TestLintAllow(t *testing.T) {
	src := strings.Join([]string{
		"var mu sync.Mutex",
		"var ok sync.Mutex //lint:allow guards a spawn",
		"var bare sync.Mutex //lint:allow",
		"go run() // a comment that is not a marker",
		"// go run() in a comment is not code",
	}, "\n")
	got := strings.Join(sharedMemory("x.go", src), "\n")
	want := "x.go:1: var mu sync.Mutex\nx.go:3: var bare sync.Mutex //lint:allow\nx.go:4: go run() // a comment that is not a marker"
	if got != want {
		t.Errorf("flagged:\n%s\nwant:\n%s", got, want)
	}
}

// layerRule says what a package of ours (dir, relative to the module) may
// import of ours: in its code, its tests or both (files).
type layerRule struct {
	dir       string
	files     fileKind
	forbidden []string // our packages it must not import (and those below them)
	only      []string // when set, the only ones of ours it may import
}

type fileKind int

const (
	allFiles  fileKind = iota
	codeFiles          // not _test.go
	testFiles          // _test.go
)

func (k fileKind) has(test bool) bool { return k == allFiles || (k == testFiles) == test }

var layerRules = []layerRule{
	{dir: "messages", only: []string{}},
	{dir: "persistence", files: codeFiles, only: []string{"messages"}},
	{dir: "persistence", files: testFiles, only: []string{"messages", "persistence/faultfs"}},
	{dir: "persistence/faultfs", only: []string{}},
	// Actors reach storage through their Store interface; their tests may
	// run on the real store.
	{dir: "actors", files: codeFiles, forbidden: []string{"gateway", "persistence", "bench", "cmd"}},
	{dir: "actors", files: testFiles, forbidden: []string{"gateway", "bench", "cmd"}},
	{dir: "gateway", files: codeFiles, forbidden: []string{"persistence", "bench", "cmd"}},
	{dir: "gateway", files: testFiles, forbidden: []string{"bench", "cmd"}},
	{dir: "bench", forbidden: []string{"cmd"}},
	// The directory clients know the messages only; the gateway decides.
	{dir: "gateway/signin", files: codeFiles, only: []string{"messages"}},
	// So does the SMTP client.
	{dir: "gateway/mail", files: codeFiles, only: []string{"messages"}},
	// The ownership directory talks to etcd and nothing of ours; its
	// tests run a real etcd.
	{dir: "actors/ownership", files: codeFiles, only: []string{}},
	{dir: "actors/ownership", files: testFiles, only: []string{"actors/ownership/etcdtest"}},
	{dir: "actors/ownership/etcdtest", only: []string{"actors/ownership/etcdproc"}},
	// How an etcd child process is run: tests and the bench share it.
	{dir: "actors/ownership/etcdproc", only: []string{}},
}

// testOnly are packages only tests import: fault injection and the
// directory servers tests start stay out of the binary.
var testOnly = []string{"persistence/faultfs", "gateway/signin/ldaptest", "gateway/signin/oidctest", "gateway/signin/testca", "actors/ownership/etcdtest"}

// under reports whether pkg is dir or a package below it.
func under(pkg, dir string) bool { return pkg == dir || strings.HasPrefix(pkg, dir+"/") }

// breaks returns why importing ours (a path relative to the module) from
// a file of pkg breaks r, or "".
func (r layerRule) breaks(pkg string, test bool, ours string) string {
	if pkg != r.dir || !r.files.has(test) {
		return ""
	}
	for _, f := range r.forbidden {
		if under(ours, f) {
			return pkg + " never imports " + f
		}
	}
	if r.only != nil {
		for _, o := range r.only {
			if ours == o {
				return ""
			}
		}
		if len(r.only) == 0 {
			return pkg + " imports nothing of ours"
		}
		return pkg + " imports only " + strings.Join(r.only, ", ") + " of ours"
	}
	return ""
}

// TestLayers enforces the direction of dependencies (STYLE.md: cmd wires
// everything; gateway -> actors -> messages; persistence -> messages),
// as pebble's forbidden-imports test does: it parses the imports of every
// Go file of the module and names the file and the import that break a
// rule. Only tests import persistence/faultfs, so it stays out of the
// binary.
func TestLayers(t *testing.T) {
	root, module := moduleRoot(t)
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if d.IsDir() && d.Name() != "." && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		pkg, test := filepath.ToSlash(filepath.Dir(rel)), strings.HasSuffix(path, "_test.go")
		for _, ours := range ourImports(t, path, module) {
			for _, r := range layerRules {
				if why := r.breaks(pkg, test, ours); why != "" {
					t.Errorf("%s imports %s/%s: %s", rel, module, ours, why)
				}
			}
			if slices.Contains(testOnly, ours) && !test && !slices.Contains(testOnly, pkg) {
				t.Errorf("%s imports %s/%s: only tests do, so that it stays out of the binary", rel, module, ours)
			}
		}
		return nil
	})
}

// moduleRoot finds go.mod above the package and reads the module path.
func moduleRoot(t *testing.T) (root, module string) {
	root, _ = filepath.Abs("..")
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if m, ok := strings.CutPrefix(line, "module "); ok {
			return root, strings.TrimSpace(m)
		}
	}
	t.Fatal("go.mod names no module")
	return "", ""
}

// ourImports returns the module's packages that the file imports, relative
// to the module.
func ourImports(t *testing.T, path, module string) []string {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	var ours []string
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if rel, ok := strings.CutPrefix(p, module+"/"); ok {
			ours = append(ours, rel)
		}
	}
	return ours
}

// The layer rules catch what they say.
func TestLayerRules(t *testing.T) {
	broken := func(pkg string, test bool, ours string) string {
		for _, r := range layerRules {
			if why := r.breaks(pkg, test, ours); why != "" {
				return why
			}
		}
		return ""
	}
	for _, c := range []struct {
		pkg  string
		test bool
		ours string
		want string
	}{
		{"messages", false, "actors", "messages imports nothing of ours"},
		{"persistence", false, "actors", "persistence imports only messages of ours"},
		{"persistence", true, "persistence/faultfs", ""},
		{"actors", false, "persistence", "actors never imports persistence"},
		{"actors", true, "persistence", ""},
		{"actors", true, "cmd/switchboard", "actors never imports cmd"},
		{"gateway", false, "persistence", "gateway never imports persistence"},
		{"gateway", false, "actors", ""},
		{"bench", false, "cmd/switchboard", "bench never imports cmd"},
		{"actors/ownership", false, "messages", "actors/ownership imports nothing of ours"},
		{"actors/ownership", true, "actors/ownership/etcdtest", ""},
	} {
		if got := broken(c.pkg, c.test, c.ours); got != c.want {
			t.Errorf("%s (test %v) importing %s: %q, want %q", c.pkg, c.test, c.ours, got, c.want)
		}
	}
}
