package qemuimg

import (
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/info from real qemu-img output")

// testdataDir stands for the temporary directory in testdata's JSON.
const testdataDir = "/var/lib/libvirt/images"

// infoFiles are testdata/info's files: what qemu-img info said of images
// made by writeTestdata. Each parses to what is checked here; all seed
// FuzzParseInfo.
var infoFiles = []string{"raw.json", "overlay.json", "snapshots.json", "chain.json"}

// TestUpdateTestdata rewrites testdata/info from qemu-img itself (-update).
func TestUpdateTestdata(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite testdata/info")
	}
	needQemuImg(t)
	dir := t.TempDir()
	base := newImage(t, dir, "base.raw", "raw", 0x11)
	snaps := newImage(t, dir, "snaps.qcow2", "qcow2", 0x22)
	for _, name := range []string{"before upgrade", "2"} {
		if out, err := exec.Command("qemu-img", "snapshot", "-c", name, snaps).CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	ov := filepath.Join(dir, "ov.qcow2")
	top := filepath.Join(dir, "top.qcow2")
	for _, c := range [][]string{{"-F", "raw", "-b", base, ov}, {"-F", "qcow2", "-b", "ov.qcow2", top}} {
		args := append([]string{"create", "-q", "-f", "qcow2"}, c...)
		if out, err := exec.Command("qemu-img", args...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	write(t, top, "qcow2", 0xab, 0, 4096)
	outputs := map[string][]string{
		"raw.json":       {base},
		"overlay.json":   {ov},
		"snapshots.json": {snaps},
		"chain.json":     {"--backing-chain", top},
	}
	for name, args := range outputs {
		args = append([]string{"info", "--output=json", "-U"}, args...)
		out, err := exec.Command("qemu-img", args...).Output()
		if err != nil {
			t.Fatal(err)
		}
		out = []byte(strings.ReplaceAll(string(out), dir, testdataDir))
		if err := os.WriteFile(filepath.Join("testdata", "info", name), out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readFile(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join("testdata", "info", name))
}

func readInfoFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := readFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// What qemu-img 7.2 said, read back.
func TestParseTestdata(t *testing.T) {
	raw, err := parseInfo(readInfoFile(t, "raw.json"))
	if err != nil || raw.Format != "raw" || raw.VirtualSize != mib || raw.BackingFilename != "" {
		t.Errorf("raw.json: %+v, %v", raw, err)
	}
	ov, err := parseInfo(readInfoFile(t, "overlay.json"))
	want := Image{Filename: testdataDir + "/ov.qcow2", Format: "qcow2", VirtualSize: mib,
		ActualSize: ov.ActualSize, BackingFilename: testdataDir + "/base.raw",
		FullBackingFilename: testdataDir + "/base.raw", BackingFormat: "raw"}
	if err != nil || !reflect.DeepEqual(ov, want) || ov.ActualSize == 0 {
		t.Errorf("overlay.json:\n got %+v, %v\nwant %+v", ov, err, want)
	}
	snaps, err := parseInfo(readInfoFile(t, "snapshots.json"))
	if err != nil || len(snaps.Snapshots) != 2 {
		t.Fatalf("snapshots.json: %+v, %v", snaps, err)
	}
	for i, name := range []string{"before upgrade", "2"} {
		s := snaps.Snapshots[i]
		if s.Name != name || s.ID != string(rune('1'+i)) || s.VMStateSize != 0 || s.VMClock != 0 ||
			s.Date.Before(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("snapshot %d: %+v", i, s)
		}
	}
	chain, err := parseChain(readInfoFile(t, "chain.json"))
	if err != nil || len(chain) != 3 {
		t.Fatalf("chain.json: %+v, %v", chain, err)
	}
	// The top records its backing file relative, as given.
	if chain[0].BackingFilename != "ov.qcow2" || chain[0].FullBackingFilename != testdataDir+"/ov.qcow2" ||
		chain[1].Filename != testdataDir+"/ov.qcow2" || chain[2].Format != "raw" {
		t.Errorf("chain.json: %+v", chain)
	}
}

func errorsIsBadInfo(err error) bool { return errors.Is(err, ErrBadInfo) }

// What qemu-img never writes is refused.
func TestParseRefuses(t *testing.T) {
	bad := map[string]string{
		"not json":          `qemu-img: Could not open`,
		"no format":         `{"virtual-size": 1}`,
		"empty format":      `{"format": "", "virtual-size": 1}`,
		"no size":           `{"format": "raw"}`,
		"negative size":     `{"format": "raw", "virtual-size": -1}`,
		"trailing":          `{"format": "raw", "virtual-size": 1} {}`,
		"snapshot no id":    `{"format": "qcow2", "virtual-size": 1, "snapshots": [{"name": "a"}]}`,
		"snapshot nsec":     `{"format": "qcow2", "virtual-size": 1, "snapshots": [{"id": "1", "date-nsec": 1000000000}]}`,
		"snapshot date":     `{"format": "qcow2", "virtual-size": 1, "snapshots": [{"id": "1", "date-sec": -1}]}`,
		"snapshot clock":    `{"format": "qcow2", "virtual-size": 1, "snapshots": [{"id": "1", "vm-clock-sec": 9300000000}]}`,
		"array for one":     `[{"format": "raw", "virtual-size": 1}]`,
		"snapshots no list": `{"format": "qcow2", "virtual-size": 1, "snapshots": {}}`,
	}
	for name, doc := range bad {
		if img, err := parseInfo([]byte(doc)); !errors.Is(err, ErrBadInfo) {
			t.Errorf("%s: got %+v, %v", name, img, err)
		}
	}
	for _, doc := range []string{`[]`, `{"format": "raw", "virtual-size": 1}`, `[{"format": "raw"}]`} {
		if chain, err := parseChain([]byte(doc)); !errors.Is(err, ErrBadInfo) {
			t.Errorf("chain %s: got %+v, %v", doc, chain, err)
		}
	}
}

// Info and Chain on real images, one held by a writer.
func TestInfoChain(t *testing.T) {
	tool := needQemuImg(t)
	ctx := testCtx(t)
	dir := t.TempDir()
	base := newImage(t, dir, "base.qcow2", "qcow2", 0x11)
	ov := filepath.Join(dir, "ov.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base, ov).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	chain, err := tool.Chain(ctx, ov)
	if err != nil || len(chain) != 2 {
		t.Fatalf("Chain: %+v, %v", chain, err)
	}
	if chain[0].Filename != ov || chain[0].FullBackingFilename != base || chain[0].BackingFormat != "qcow2" ||
		chain[1].Filename != base || chain[1].Format != "qcow2" || chain[1].BackingFilename != "" {
		t.Errorf("Chain: %+v", chain)
	}
	img, err := tool.Info(ctx, ov)
	if err != nil || !reflect.DeepEqual(img, chain[0]) {
		t.Errorf("Info: %+v, %v; want the chain's first %+v", img, err, chain[0])
	}
	// A broken chain: Info still reads the image, Chain says why not.
	if err := os.Rename(base, base+".moved"); err != nil {
		t.Fatal(err)
	}
	if _, err := tool.Info(ctx, ov); err != nil {
		t.Errorf("Info with its backing file gone: %v", err)
	}
	if _, err := tool.Chain(ctx, ov); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Chain with its backing file gone: %v", err)
	}
	if _, err := tool.Info(ctx, "ov.qcow2"); !errors.Is(err, ErrRelativePath) {
		t.Errorf("Info of a relative path: %v", err)
	}
}
