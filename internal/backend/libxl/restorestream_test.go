package libxl

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"virtxend/internal/backend"
)

// stream is a whole libxl stream as far as these tests go: its start and
// some of libxc's.
var stream = append(libxlStart(recLibxcContext), "libxc's part of the stream"...)

// TestRestoreInputFile: a regular file is looked at where its stream
// starts and given to libxl as it is; one whose stream ends, or is not
// libxl's, before the LIBXC_CONTEXT record is refused.
func TestRestoreInputFile(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content []byte
		version uint32
		ok      bool
	}{
		{"whole", stream, 2, true},
		{"the header only", stream[:16], 2, false},
		{"empty", nil, 2, false},
		{"not libxl's", []byte("virtxend-sim-stream 2\n..........."), 2, false},
		{"version 1, not looked at", []byte("legacy"), 1, true},
	} {
		f, err := os.Create(filepath.Join(t.TempDir(), "img"))
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("libvirt's header")
		f.Write(tc.content)
		f.Seek(int64(len("libvirt's header")), io.SeekStart)
		in, done, err := restoreInput(context.Background(), f, tc.version)
		if tc.ok != (err == nil) || err != nil && !errors.Is(err, backend.ErrFailed) {
			t.Errorf("%s: %v", tc.name, err)
		}
		if err == nil {
			done()
			rest, _ := io.ReadAll(in)
			if in != f || !bytes.Equal(rest, tc.content) {
				t.Errorf("%s: libxl would read %q from %v", tc.name, rest, in.Name())
			}
		}
		f.Close()
	}
}

// TestRestoreInputSocket: a socket is peeked at until the stream's start
// has come, which libxl then reads from it; a peer gone before is
// refused, and ctx bounds the wait.
func TestRestoreInputSocket(t *testing.T) {
	r, w := socketpair(t)
	go func() {
		w.Write(stream[:10])
		time.Sleep(100 * time.Millisecond)
		w.Write(stream[10:])
		w.Close()
	}()
	in, done, err := restoreInput(context.Background(), r, 2)
	if err != nil {
		t.Fatal(err)
	}
	done()
	if got, _ := io.ReadAll(in); in != r || !bytes.Equal(got, stream) {
		t.Fatalf("libxl would read %q", got)
	}

	short, w2 := socketpair(t)
	w2.Write(stream[:20])
	w2.Close()
	if _, _, err := restoreInput(context.Background(), short, 2); !errors.Is(err, backend.ErrFailed) {
		t.Fatalf("a stream ended after 20 octets: %v", err)
	}

	silent, _ := socketpair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, _, err := restoreInput(ctx, silent, 2); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting for a stream that does not come: %v", err)
	}
}

// TestRestoreInputPipe: a pipe cannot be peeked at: libxl reads the
// stream from another pipe, its start included.
func TestRestoreInputPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() { w.Write(stream); w.Close() }()
	in, done, err := restoreInput(context.Background(), r, 2)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(in)
	done()
	if in == r || !bytes.Equal(got, stream) {
		t.Fatalf("libxl would read %q", got)
	}

	r2, w2, _ := os.Pipe()
	defer r2.Close()
	w2.Write(stream[:16])
	w2.Close()
	if _, _, err := restoreInput(context.Background(), r2, 2); !errors.Is(err, backend.ErrFailed) {
		t.Fatalf("a stream ended after its header: %v", err)
	}
}
