package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"virtxend/internal/paths"
	"virtxend/internal/store"
)

// killPointEnv arms a daemon built with -tags killpoints (see
// internal/store/killpoint_armed.go).
const killPointEnv = "VIRTXEND_KILLPOINT"

// daemon is one run of the daemon binary.
type daemon struct {
	cmd     *exec.Cmd
	started time.Time
	done    chan struct{} // closed once its output is read to the end and it is reaped

	mu       sync.Mutex
	out      bytes.Buffer
	killLine string // what the armed hook printed before it killed
}

// startDaemon runs bin in root; killAt > 0 arms its Nth crash point.
func startDaemon(bin, root string, killAt int) (*daemon, error) {
	cmd := exec.Command(bin)
	env := []string{paths.RootEnv + "=" + root}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, killPointEnv+"=") && !strings.HasPrefix(kv, paths.RootEnv+"=") {
			env = append(env, kv)
		}
	}
	if killAt > 0 {
		env = append(env, fmt.Sprintf("%s=%d", killPointEnv, killAt))
	}
	cmd.Env = env
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = w, w
	d := &daemon{cmd: cmd, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	d.started = time.Now()
	w.Close()
	go d.collect(r)
	return d, nil
}

// collect reads the daemon's output to its end, and only then reaps it:
// a line still in the pipe when it is closed would be lost (the lost
// define of issue 20 was such a line).
func (d *daemon) collect(r io.ReadCloser) {
	defer close(d.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		d.mu.Lock()
		if _, ok := store.ParseKillPoint(line); ok {
			d.killLine = line
		}
		if d.out.Len() < 1<<20 {
			d.out.WriteString(line + "\n")
		}
		d.mu.Unlock()
	}
	r.Close()
	d.cmd.Wait()
}

func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// kill SIGKILLs the daemon unless it is already gone, and waits for it.
func (d *daemon) kill() {
	d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.done
}

// stop asks the daemon to stop (SIGTERM) and returns its exit status.
func (d *daemon) stop(limit time.Duration) (int, error) {
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		return d.cmd.ProcessState.ExitCode(), nil
	case <-time.After(limit):
		d.kill()
		return -1, fmt.Errorf("daemon still running %v after SIGTERM", limit)
	}
}

func (d *daemon) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.out.String()
}

func (d *daemon) hookLine() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.killLine
}

// waitServing waits until the daemon answers a keepalive PING on sock;
// false if it exited first or did not serve within limit.
func (d *daemon) waitServing(sock string, limit time.Duration) bool {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if d.exited() {
			return false
		}
		if serves(sock) {
			return true
		}
	}
	return false
}

// pingPacket and pongPacket are the keepalive program's PING and PONG.
var (
	pingPacket = []byte{0, 0, 0, 0x1c, 0x6b, 0x65, 0x65, 0x70, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0}
	pongPacket = []byte{0, 0, 0, 0x1c, 0x6b, 0x65, 0x65, 0x70, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0}
)

// serves reports whether a libvirt RPC server answers a PING on sock: a
// bare connect is not enough, the socket listens before the daemon serves.
func serves(sock string) bool {
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write(pingPacket); err != nil {
		return false
	}
	got := make([]byte, len(pongPacket))
	_, err = io.ReadFull(c, got)
	return err == nil && bytes.Equal(got, pongPacket)
}

// buildDaemon builds cmd/virtxend with the killpoints tag into dir.
func buildDaemon(dir string) (string, error) {
	bin := filepath.Join(dir, "virtxend-killpoints-daemon")
	out, err := exec.Command("go", "build", "-tags", "killpoints", "-o", bin, "virtxend/cmd/virtxend").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build -tags killpoints: %v\n%s", err, out)
	}
	return bin, nil
}
