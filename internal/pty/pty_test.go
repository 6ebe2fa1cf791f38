package pty

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestPairCarriesBytesBothWaysRaw(t *testing.T) {
	p, err := Open()
	if err != nil {
		t.Skipf("no ptys here: %v", err)
	}
	defer p.Close()
	// A second opener of the slave, as a console client is.
	c, err := os.OpenFile(p.Path, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := p.Master.Write([]byte("hi\n")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 3)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "hi\n" {
		t.Fatalf("client read %q, %v; want the bytes unchanged (raw: no \\r added)", got, err)
	}
	if _, err := c.Write([]byte("x\r")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(p.Master, got[:2]); err != nil || string(got[:2]) != "x\r" {
		t.Fatalf("master read %q, %v; want the bytes unchanged and no echo", got[:2], err)
	}
}

func TestHangupIsEOFForTheClient(t *testing.T) {
	p, err := Open()
	if err != nil {
		t.Skipf("no ptys here: %v", err)
	}
	c, err := os.OpenFile(p.Path, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 10))
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	p.Close()
	select {
	case err := <-done:
		if err != io.EOF {
			t.Fatalf("read after hangup: %v, want EOF", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("read did not return after the master closed")
	}
}

func TestMakeRawRefusesAFile(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ae *AttrError
	if err := MakeRaw(f); !errors.As(err, &ae) || ae.Set {
		t.Fatalf("MakeRaw(file) = %v, want a tcgetattr AttrError", err)
	}
}
