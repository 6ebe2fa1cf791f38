package logging

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestReconfigureIsAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	out := "3:file:" + filepath.Join(dir, "a.log")
	l, err := New(Settings{Level: 3, Outputs: out, Filters: "1:rpc", Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	bad := Settings{Level: 2, Outputs: "3:file:" + filepath.Join(dir, "b.log"), Filters: "9:x",
		Getenv: func(string) string { return "" }}
	if err := l.Reconfigure(bad, Edited{Filters: true, Outputs: true}); err == nil {
		t.Fatal("a bad filter was accepted")
	}
	if l.Level() != 3 || !strings.Contains(l.Outputs(), "a.log") || l.Filters() != "1:*rpc* " {
		t.Fatalf("a failed reconfigure changed something: %v %q %q", l.Level(), l.Outputs(), l.Filters())
	}
	good := Settings{Level: 2, Outputs: "2:file:" + filepath.Join(dir, "b.log"), Getenv: func(string) string { return "" }}
	if err := l.Reconfigure(good, Edited{Filters: true, Outputs: true}); err != nil {
		t.Fatal(err)
	}
	if l.Level() != 2 || !strings.Contains(l.Outputs(), "b.log") || l.Filters() != "" {
		t.Fatalf("reconfigure not applied: %v %q %q", l.Level(), l.Outputs(), l.Filters())
	}
}

// What SetFilters and SetOutputs chose survives a reload that did not edit
// that setting, and gives way to one that did.
func TestReconfigureKeepsWhatWasSetLive(t *testing.T) {
	dir := t.TempDir()
	noEnv := func(string) string { return "" }
	file := func(name string) string { return "3:file:" + filepath.Join(dir, name) }
	l, err := New(Settings{Level: 3, Outputs: file("a.log"), Filters: "1:rpc", Getenv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.SetFilters("2:admin"); err != nil {
		t.Fatal(err)
	}
	if err := l.SetOutputs(file("live.log")); err != nil {
		t.Fatal(err)
	}
	// Only log_level changed in the file.
	if err := l.Reconfigure(Settings{Level: 2, Outputs: file("a.log"), Filters: "1:rpc", Getenv: noEnv}, Edited{}); err != nil {
		t.Fatal(err)
	}
	if l.Level() != 2 || l.Filters() != "2:*admin* " || !strings.Contains(l.Outputs(), "live.log") {
		t.Fatalf("a reload of log_level undid live settings: %v %q %q", l.Level(), l.Filters(), l.Outputs())
	}
	// log_filters edited: the file's filters win; the live outputs stay.
	if err := l.Reconfigure(Settings{Level: 2, Outputs: file("a.log"), Filters: "1:util", Getenv: noEnv}, Edited{Filters: true}); err != nil {
		t.Fatal(err)
	}
	if l.Filters() != "1:*util* " || !strings.Contains(l.Outputs(), "live.log") {
		t.Fatalf("after editing log_filters: %q %q", l.Filters(), l.Outputs())
	}
	// Filters now come from the file, so a later reload that leaves
	// log_filters alone still applies the file's value.
	if err := l.Reconfigure(Settings{Level: 2, Outputs: file("b.log"), Filters: "1:util", Getenv: noEnv}, Edited{Outputs: true}); err != nil {
		t.Fatal(err)
	}
	if l.Filters() != "1:*util* " || !strings.Contains(l.Outputs(), "b.log") {
		t.Fatalf("after editing log_outputs: %q %q", l.Filters(), l.Outputs())
	}
}
