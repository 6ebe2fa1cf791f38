package libxllog

import (
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestFiles: libxl's messages go to libxl-driver.log, a running guest's to
// its own log (which begins with its start's configuration), and back to
// the main log once the guest's log is closed; each line is libvirt's.
func TestFiles(t *testing.T) {
	dir := t.TempDir()
	fs, err := Open(dir, slog.LevelWarn)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(fs.Handler()).With("context", "libxl")
	fs.OpenDomain(5, "web", `{"c_info": {}}`)
	log.Debug("libxl_create.c:1:f: Domain 5:below the level")
	log.Warn("libxl_create.c:2:f: Domain 5:about web")
	log.Error("libxl_dom.c:3:g: Domain 6:about another", "errno", "No such file or directory")
	log.Warn("libxl.c:4:h: not about a guest")
	fs.CloseDomain(5)
	log.Warn("libxl_create.c:5:f: Domain 5:after the close")
	if err := fs.Close(); err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\+0000: `).ReplaceAllString(string(b), "T: ")
	}
	if got, want := read("web.log"), "Domain start: {\"c_info\": {}}\nT: libxl: libxl_create.c:2:f: Domain 5:about web\n"; got != want {
		t.Errorf("web.log:\n%s\nwant:\n%s", got, want)
	}
	want := strings.Join([]string{
		"T: libxl: libxl_dom.c:3:g: Domain 6:about another: No such file or directory",
		"T: libxl: libxl.c:4:h: not about a guest",
		"T: libxl: libxl_create.c:5:f: Domain 5:after the close", ""}, "\n")
	if got := read("libxl-driver.log"); got != want {
		t.Errorf("libxl-driver.log:\n%s\nwant:\n%s", got, want)
	}
}
