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
	if err := l.Reconfigure(bad); err == nil {
		t.Fatal("a bad filter was accepted")
	}
	if l.Level() != 3 || !strings.Contains(l.Outputs(), "a.log") || l.Filters() != "1:*rpc* " {
		t.Fatalf("a failed reconfigure changed something: %v %q %q", l.Level(), l.Outputs(), l.Filters())
	}
	good := Settings{Level: 2, Outputs: "2:file:" + filepath.Join(dir, "b.log"), Getenv: func(string) string { return "" }}
	if err := l.Reconfigure(good); err != nil {
		t.Fatal(err)
	}
	if l.Level() != 2 || !strings.Contains(l.Outputs(), "b.log") || l.Filters() != "" {
		t.Fatalf("reconfigure not applied: %v %q %q", l.Level(), l.Outputs(), l.Filters())
	}
}
