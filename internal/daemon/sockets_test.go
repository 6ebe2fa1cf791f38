package daemon

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A socket that answers is refused, naming the process that listened on
// it, and saying so when that process is gone and another holds it.
func TestInUseNamesTheListener(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	err = clearStaleSocket(path)
	ln.Close()
	wantInUse(t, err, fmt.Sprintf("socket '%s' is in use by pid %d", path, os.Getpid()))

	// A listener that started a process and ended: the child holds the
	// socket (the descriptor was inherited).
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3 to fork a holder")
	}
	held := filepath.Join(t.TempDir(), "held")
	cmd := exec.Command("python3", "-c", `
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(5)
child = os.fork()
if child == 0:
    time.sleep(60)
    os._exit(0)
print(os.getpid(), child, flush=True)
`, held)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var listener, holder int
	line, _ := bufio.NewReader(out).ReadString('\n')
	if _, err := fmt.Sscan(line, &listener, &holder); err != nil {
		t.Fatalf("python: %q: %v", line, err)
	}
	t.Cleanup(func() { syscall.Kill(holder, syscall.SIGKILL) })
	cmd.Wait()
	wantInUse(t, clearStaleSocket(held), fmt.Sprintf("socket '%s' is in use, held open since its listener (pid %d) ended", held, listener))
}

func wantInUse(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || !strings.HasPrefix(err.Error(), want) || !errors.Is(err, ErrAlreadyRunning) {
		t.Errorf("%v, want %q", err, want)
	}
}
