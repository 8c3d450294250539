package actors

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestActorsShareNoMemory enforces the house rule: state lives in actor
// fields only, so the package has no locks, no channels and no goroutines
// of its own (pebble's internal/lint does the same for its rules). The one
// exceptions are dispatcher.go, whose workers run mailboxes, and
// activation.go, which guards Proto.Actor's spawn.
func TestActorsShareNoMemory(t *testing.T) {
	forbidden := regexp.MustCompile(`sync\.(Mutex|RWMutex|WaitGroup|Cond)|\bchan\b|\bgo func|\bgo [a-zA-Z_.]+\(|sync/atomic`)
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || strings.HasSuffix(f, ".pb.go") || f == "dispatcher.go" || f == "activation.go" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			code, _, _ := strings.Cut(line, "//")
			if forbidden.MatchString(code) {
				t.Errorf("%s:%d: %s", f, i+1, strings.TrimSpace(line))
			}
		}
	}
}
