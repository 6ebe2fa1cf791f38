package qemuimg

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// An overlay reads its base where it has not been written, keeps what is
// written to it, and leaves the base as it was.
func TestCreateOverlay(t *testing.T) {
	tool := needQemuImg(t)
	ctx := testCtx(t)
	dir := t.TempDir()
	base := newImage(t, dir, "base.raw", "raw", 0x11)
	ov := filepath.Join(dir, "ov.qcow2")
	if err := CheckNewOverlay(ov); err != nil {
		t.Fatalf("CheckNewOverlay of a new path: %v", err)
	}
	if err := tool.CreateOverlay(ctx, ov, base, "raw"); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(ov); err != nil || st.Mode().Perm() != overlayMode {
		t.Errorf("overlay's mode: %v, %v; want %v", st.Mode(), err, fs.FileMode(overlayMode))
	}
	if err := CheckQcow2(ov); err != nil {
		t.Errorf("CheckQcow2 of the overlay: %v", err)
	}
	mustHold(t, ov, "qcow2", 0x11, 0, mib)
	write(t, ov, "qcow2", 0xab, 0, 4096)
	mustHold(t, ov, "qcow2", 0xab, 0, 4096)
	mustHold(t, ov, "qcow2", 0x11, 4096, mib-4096)
	mustHold(t, base, "raw", 0x11, 0, mib)

	img, err := tool.Info(ctx, ov)
	if err != nil {
		t.Fatal(err)
	}
	want := Image{Filename: ov, Format: "qcow2", VirtualSize: mib, BackingFilename: base,
		FullBackingFilename: base, BackingFormat: "raw"}
	img.ActualSize = 0 // the filesystem's to say
	if !reflect.DeepEqual(img, want) {
		t.Errorf("Info of the overlay:\n got %+v\nwant %+v", img, want)
	}
}

// An existing file is never overwritten; a dangling symlink counts as one.
func TestCreateOverlayRefusesExisting(t *testing.T) {
	tool := needQemuImg(t)
	ctx := testCtx(t)
	dir := t.TempDir()
	base := newImage(t, dir, "base.raw", "raw", 0)
	existing := filepath.Join(dir, "existing")
	if err := os.WriteFile(existing, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{existing, dangling, base} {
		if err := CheckNewOverlay(p); !errors.Is(err, ErrExists) {
			t.Errorf("CheckNewOverlay(%s) = %v, want ErrExists", p, err)
		}
		if err := tool.CreateOverlay(ctx, p, base, "raw"); !errors.Is(err, ErrExists) {
			t.Errorf("CreateOverlay(%s) = %v, want ErrExists", p, err)
		}
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep me" {
		t.Errorf("existing file now holds %q", b)
	}
	if _, err := os.Lstat(filepath.Join(dir, "nowhere")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the dangling symlink's target was created: %v", err)
	}
}

// Arguments qemu-img would misread are refused before it runs; a failed
// qemu-img leaves no file behind.
func TestCreateOverlayRefusals(t *testing.T) {
	tool := needQemuImg(t)
	ctx := testCtx(t)
	dir := t.TempDir()
	base := newImage(t, dir, "base.raw", "raw", 0)
	ov := filepath.Join(dir, "ov.qcow2")
	cases := []struct {
		path, backing, format string
		want                  error
	}{
		{"ov.qcow2", base, "raw", ErrRelativePath},
		{"nbd:localhost:10809", base, "raw", ErrRelativePath},
		{ov, "base.raw", "raw", ErrRelativePath},
		{ov, base, "", ErrNoFormat},
		{ov, filepath.Join(dir, "missing.raw"), "raw", fs.ErrNotExist},
	}
	for _, c := range cases {
		err := tool.CreateOverlay(ctx, c.path, c.backing, c.format)
		if !errors.Is(err, c.want) {
			t.Errorf("CreateOverlay(%q, %q, %q) = %v, want %v", c.path, c.backing, c.format, err, c.want)
		}
	}
	err := tool.CreateOverlay(ctx, ov, base, "qcow2")
	var qe *Error
	if !errors.As(err, &qe) || qe.ExitCode != 1 || qe.Stderr == "" {
		t.Errorf("CreateOverlay over a raw file said to be qcow2: %#v", err)
	}
	if _, err := os.Lstat(ov); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("failed CreateOverlay left %s: %v", ov, err)
	}
}

// A block device may be formatted (only the check runs here: nothing is
// written to a device of the host).
func TestCheckNewOverlayBlockDevice(t *testing.T) {
	for _, dev := range []string{"/dev/loop0", "/dev/vda", "/dev/sda", "/dev/xvda", "/dev/nvme0n1"} {
		if st, err := os.Stat(dev); err == nil && st.Mode()&fs.ModeDevice != 0 && st.Mode()&fs.ModeCharDevice == 0 {
			if err := CheckNewOverlay(dev); err != nil {
				t.Errorf("CheckNewOverlay(%s) = %v, want nil", dev, err)
			}
			return
		}
	}
	t.Skip("no block device found in /dev")
}

// A character device is refused, as libvirt refuses it.
func TestCheckNewOverlayCharDevice(t *testing.T) {
	if err := CheckNewOverlay("/dev/null"); !errors.Is(err, ErrExists) {
		t.Errorf("CheckNewOverlay(/dev/null) = %v, want ErrExists", err)
	}
}

func TestCheckQcow2(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"qcow2": "QFI\xfb\x00\x00\x00\x03",
		"raw":   "\x00\x00\x00\x00\x00\x00\x00\x00",
		"short": "QF",
		"empty": "",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string]error{"qcow2": nil, "raw": ErrNotQcow2, "short": ErrNotQcow2,
		"empty": ErrNotQcow2, "missing": fs.ErrNotExist} {
		if err := CheckQcow2(filepath.Join(dir, name)); !errors.Is(err, want) {
			t.Errorf("CheckQcow2(%s) = %v, want %v", name, err, want)
		}
	}
}
