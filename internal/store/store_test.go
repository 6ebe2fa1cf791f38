package store

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestWriteFileReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.xml")
	if err := WriteFile(p, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil || string(b) != "two" {
		t.Fatalf("content %q, %v", b, err)
	}
	fi, _ := os.Stat(p)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("leftover files: %v", entries)
	}
}

func TestWriteFileMissingDirFailsCleanly(t *testing.T) {
	if err := WriteFile(filepath.Join(t.TempDir(), "no", "a.xml"), []byte("x"), 0o600); err == nil {
		t.Fatal("expected an error")
	}
}

// A crash between creating the temporary file and renaming it leaves the
// temporary behind: loaders must not see it, and the old file must be intact.
func TestCrashLeftoverTempIgnored(t *testing.T) {
	dir := t.TempDir()
	if err := WriteFile(filepath.Join(dir, "good.xml"), []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Simulate the crash: a half-written temporary of good.xml and of a new file.
	for _, n := range []string{".good.xml.tmp-123", ".new.xml.tmp-9"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("<dom"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	names, err := ListNames(dir, ".xml")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"good"}) {
		t.Fatalf("names %v", names)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "good.xml")); string(b) != "old" {
		t.Fatalf("old content lost: %q", b)
	}
	if err := CleanTemp(dir); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporaries not cleaned: %v", entries)
	}
}

// CleanTempOf leaves alone what is not a temporary of the names it is
// given: another process's writes in flight in a shared directory.
func TestCleanTempOf(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"host.json", ".host.json.tmp-1", ".host.json.tmp-2", ".consoles.json.tmp-3", ".host.jsonx.tmp-4"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o600)
	}
	if err := CleanTempOf(dir, "host.json"); err != nil {
		t.Fatal(err)
	}
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if want := []string{".consoles.json.tmp-3", ".host.jsonx.tmp-4", "host.json"}; !slices.Equal(left, want) {
		t.Fatalf("left %v, want %v", left, want)
	}
}

func TestRemove(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.xml")
	if err := Remove(p); err != nil {
		t.Fatalf("missing file: %v", err)
	}
	os.WriteFile(p, nil, 0o600)
	if err := Remove(p); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("file still there")
	}
}

func TestSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "a.xml")
	other := filepath.Join(dir, "b.xml")
	os.WriteFile(target, nil, 0o600)
	os.WriteFile(other, nil, 0o600)
	link := filepath.Join(dir, "auto", "a.xml")
	if err := MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if LinkPointsTo(link, target) {
		t.Fatal("no link yet")
	}
	if err := Symlink(other, link); err != nil {
		t.Fatal(err)
	}
	if err := Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if !LinkPointsTo(link, target) || LinkPointsTo(link, other) {
		t.Fatal("link does not point at target")
	}
	if err := Remove(link); err != nil {
		t.Fatal(err)
	}
	if LinkPointsTo(link, target) {
		t.Fatal("link still there")
	}
}

func TestListNamesMissingDir(t *testing.T) {
	names, err := ListNames(filepath.Join(t.TempDir(), "none"), ".xml")
	if err != nil || names != nil {
		t.Fatalf("%v %v", names, err)
	}
}

func TestPidFileExcludesSecondHolder(t *testing.T) {
	p := filepath.Join(t.TempDir(), "driver.pid")
	a, err := AcquirePidFile(p, 42)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "42" {
		t.Fatalf("pid file holds %q", b)
	}
	if _, err := AcquirePidFile(p, 43); !errors.Is(err, ErrLocked) {
		t.Fatalf("second acquire: %v", err)
	}
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	c, err := AcquirePidFile(p, 44)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	c.Release()
}

// TestSyncDirShared: concurrent callers share syncs, and each returns only
// after a sync that began after its change (counted before its call) ended.
func TestSyncDirShared(t *testing.T) {
	var changes, covered atomic.Int64 // changes made; the most any ended sync covers
	var syncs atomic.Int32
	real := syncDirNow
	syncDirNow = func(dir string) error {
		syncs.Add(1)
		c := changes.Load()
		time.Sleep(time.Millisecond)
		for {
			old := covered.Load()
			if c <= old || covered.CompareAndSwap(old, c) {
				break
			}
		}
		return real(dir)
	}
	defer func() { syncDirNow = real }()
	dir := t.TempDir()
	var wg sync.WaitGroup
	const callers = 64
	for range callers {
		wg.Go(func() {
			mine := changes.Add(1)
			if err := SyncDir(dir); err != nil {
				t.Error(err)
			}
			if covered.Load() < mine {
				t.Errorf("change %d returned before a sync covered it", mine)
			}
		})
	}
	wg.Wait()
	if n := syncs.Load(); n >= callers {
		t.Errorf("%d syncs for %d concurrent callers: none shared", n, callers)
	}
	if err := SyncDir(filepath.Join(dir, "missing")); err == nil {
		t.Error("sync of a missing directory succeeded")
	}
}

// TestSyncDirOneSyncerPerDirectory: a directory named with and without a
// trailing slash (WriteFile's and Remove's) has one syncer, so that a
// define's sync and an undefine's are shared.
func TestSyncDirOneSyncerPerDirectory(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{dir, dir + "/", dir + "/."} {
		if err := SyncDir(name); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	dirSyncers.Range(func(k, _ any) bool {
		if strings.HasPrefix(k.(string), dir) {
			n++
		}
		return true
	})
	if n != 1 {
		t.Errorf("%d syncers for %s", n, dir)
	}
}
