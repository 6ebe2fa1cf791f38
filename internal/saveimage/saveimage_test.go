package saveimage

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const domXML = "<domain type='xen'><name>g1</name></domain>"

// image writes a complete image of xml and stream to a new file.
func image(t *testing.T, xml, stream string, state State) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "g1.save")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := Begin(f, xml, state)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(stream); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	return path
}

func readImage(t *testing.T, path string) (Header, string, string, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, x, err := Read(f)
	if err != nil {
		return h, x, "", err
	}
	rest, _ := io.ReadAll(f)
	return h, x, string(rest), nil
}

func TestRoundTrip(t *testing.T) {
	path := image(t, domXML, "STREAM", StatePaused)
	h, x, rest, err := readImage(t, path)
	if err != nil {
		t.Fatal(err)
	}
	if x != domXML || rest != "STREAM" || h.State != StatePaused || h.Version != Version {
		t.Fatalf("read %+v %q %q", h, x, rest)
	}
}

// TestLibvirtLayout checks the bytes libvirt's libxlDoDomainSave writes:
// magic, version 2, the XML's length with its NUL, forty zero bytes.
func TestLibvirtLayout(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("libvirt-xml\n \x00 \r")
	b.Write([]byte{2, 0, 0, 0, byte(len(domXML) + 1), 0, 0, 0})
	b.Write(make([]byte, 40))
	b.WriteString(domXML + "\x00")
	b.WriteString("LIBXL")
	r := bytes.NewReader(b.Bytes())
	h, x, err := Read(r)
	if err != nil || x != domXML || h.State != StateUnknown {
		t.Fatalf("read %+v %q %v", h, x, err)
	}
	if rest, _ := io.ReadAll(r); string(rest) != "LIBXL" {
		t.Fatalf("stream %q", rest)
	}
}

func TestRefused(t *testing.T) {
	good := func() []byte {
		b, _ := os.ReadFile(image(t, domXML, "S", StateRunning))
		return b
	}
	cases := map[string]struct {
		edit func([]byte) []byte
		want error
		text string
	}{
		"empty":     {func(b []byte) []byte { return nil }, ErrHeader, "failed to read libxl header"},
		"short":     {func(b []byte) []byte { return b[:40] }, ErrHeader, ""},
		"foreign":   {func(b []byte) []byte { return append([]byte("LibvirtQemudSave"), b[16:]...) }, ErrMagic, "image magic is incorrect"},
		"partial":   {func(b []byte) []byte { return append([]byte(PartialMagic), b[16:]...) }, ErrIncomplete, ""},
		"version":   {func(b []byte) []byte { b[16] = 3; return b }, ErrVersion, "image version is not supported (3 > 2)"},
		"zero xml":  {func(b []byte) []byte { b[20], b[21] = 0, 0; return b }, ErrXMLLen, "invalid XML length: 0"},
		"huge xml":  {func(b []byte) []byte { b[23] = 0x7f; return b }, ErrXMLLen, ""},
		"truncated": {func(b []byte) []byte { return b[:HeaderSize+10] }, ErrXML, "failed to read XML"},
	}
	for name, c := range cases {
		_, _, err := Read(bytes.NewReader(c.edit(good())))
		if !errors.Is(err, c.want) || (c.text != "" && err.Error() != c.text) {
			t.Errorf("%s: %v, want %v %q", name, err, c.want, c.text)
		}
	}
}

func TestReplace(t *testing.T) {
	path := image(t, domXML, "STREAM", StateRunning)
	small := strings.Replace(domXML, "g1", "g1<title>t</title>", 1)
	if err := Replace(path, small, StatePaused); err != nil {
		t.Fatal(err)
	}
	if h, x, rest, err := readImage(t, path); err != nil || x != small || rest != "STREAM" || h.State != StatePaused {
		t.Fatalf("in place: %+v %q %q %v", h, x, rest, err)
	}
	big := strings.Replace(domXML, "g1", "g1<description>"+strings.Repeat("x", 3*xmlPad)+"</description>", 1)
	if err := Replace(path, big, StateRunning); err != nil {
		t.Fatal(err)
	}
	if h, x, rest, err := readImage(t, path); err != nil || x != big || rest != "STREAM" || h.State != StateRunning {
		t.Fatalf("copied: %+v %d %q %v", h, len(x), rest, err)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*.tmp*")); len(m) != 0 {
		t.Fatalf("left behind: %v", m)
	}
}

func FuzzRead(f *testing.F) {
	var b bytes.Buffer
	b.Write(Header{Version: Version, XMLLen: uint32(len(domXML) + 1)}.marshal(Magic))
	b.WriteString(domXML + "\x00stream")
	f.Add(b.Bytes())
	f.Add([]byte(PartialMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, x, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		if int(h.XMLLen) > len(data)-HeaderSize || len(x) > int(h.XMLLen) || strings.IndexByte(x, 0) >= 0 {
			t.Fatalf("header %+v, xml of %d bytes, from %d bytes", h, len(x), len(data))
		}
	})
}

// TestFifo: an image written into a pipe goes straight through, complete.
func TestFifo(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); done <- b }()
	iw, err := Begin(w, domXML, StateRunning)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString("STREAM")
	if err := iw.Commit(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	b := <-done
	h, x, err := Read(bytes.NewReader(b))
	if err != nil || x != domXML || h.State != StateRunning || !bytes.HasSuffix(b, []byte("STREAM")) {
		t.Fatalf("read %+v %q %v", h, x, err)
	}
}
