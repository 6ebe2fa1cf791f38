package peer

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// commandLine is the command an ssh or ext target runs, whose standard
// input and output are the connection: virNetSocketNewConnectSSH's ssh
// command line, or the ext transport's command alone.
func (t *target) commandLine() (string, []string, error) {
	if t.transport == "ext" {
		return t.command, nil, nil
	}
	remote, err := t.remoteCommand()
	if err != nil {
		return "", nil, err
	}
	var args []string
	if t.port != "" {
		args = append(args, "-p", t.port)
	}
	if t.user != "" {
		args = append(args, "-l", t.user)
	}
	if t.keyfile != "" {
		args = append(args, "-i", t.keyfile)
	}
	// Unlike libvirt, which adds it only for no_tty=1: a daemon has no
	// one to answer a password prompt, so ssh must fail rather than wait.
	args = append(args, "-T", "-e", "none", "-o", "BatchMode=yes")
	if t.noVerify {
		args = append(args, "-o", "StrictHostKeyChecking=no")
	}
	return cmp.Or(t.command, "ssh"), append(args, "--", t.host, remote), nil
}

// remoteCommand is virNetClientSSHHelperCommand: what ssh runs on the
// remote host to reach its daemon. virt-ssh-helper (libvirt 6.8 and
// later) opens the URI there and finds the daemon's socket itself; nc
// connects to the socket named here. proxy=auto tries the helper, then nc.
func (t *target) remoteCommand() (string, error) {
	proxy := t.proxy
	if proxy == "auto" && t.netcat != "" {
		proxy = "netcat" // naming nc asks for it
	}
	ncPath := doubleEscapeShell(cmp.Or(t.netcat, "nc"))
	// The socket is not quoted, as libvirt does not quote it.
	nc := fmt.Sprintf(`if '%s' -q 2>&1 | grep "requires an argument" >/dev/null 2>&1; then ARG=-q0;else ARG=;fi;'%s' $ARG -U %s`,
		ncPath, ncPath, t.socket)
	helper := fmt.Sprintf("virt-ssh-helper '%s'", doubleEscapeShell(cmp.Or(t.helperName, t.name)))
	switch proxy {
	case "netcat":
		return fmt.Sprintf("sh -c '%s'", nc), nil
	case "native":
		if t.netcat != "" {
			return "", virerr.New(virerr.FromRPC, libvirt.ErrInvalidArg, "netcat path not valid with native proxy mode")
		}
		return fmt.Sprintf("sh -c '%s'", helper), nil
	}
	return fmt.Sprintf("sh -c 'which virt-ssh-helper 1>/dev/null 2>&1; if test $? = 0; then     %s; else    %s; fi'", helper, nc), nil
}

// doubleEscapeShell is virNetClientDoubleEscapeShell: quoted for the
// shell twice, for the remote login shell and the sh -c it runs.
func doubleEscapeShell(s string) string { return escapeShell(escapeShell(s)) }

// escapeShell is virBufferEscapeShell: single-quoted if s has a shell
// metacharacter, each ' written '\”.
func escapeShell(s string) string {
	if s == "" {
		return "''"
	}
	if !strings.ContainsAny(s, "\r\t\n !\"#$&'()*;<>?[\\]^`{|}~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// passEnv is what libvirt passes to the command from its own
// environment (virCommandAddEnvPassCommon and virNetSocketNewConnectSSH's
// list), beside LC_ALL=C.
var passEnv = []string{
	"LD_PRELOAD", "LD_LIBRARY_PATH", "PATH", "HOME", "USER", "LOGNAME", "TMPDIR",
	"XDG_RUNTIME_DIR", "KRB5CCNAME", "SSH_AUTH_SOCK", "SSH_ASKPASS", "SSH_ASKPASS_REQUIRE",
	"OPENSSL_CONF", "DISPLAY", "XAUTHORITY",
}

// stderrLimit is how much of the command's standard error explains its
// end, as virFileReadLimFD(errfd, 1024) reads it.
const stderrLimit = 1024

// exitWait is how long the end of the command's output waits for its
// exit, and a closed connection for it to heed SIGTERM before SIGKILL.
const exitWait = 2 * time.Second

// cmdConn is a running command whose standard input and output are a
// connection to a libvirt daemon: one end of a socket pair, as libvirt
// runs it (so that a command that exits unread resets the connection, as
// libvirt's own does: "Cannot recv data: ...: Connection reset by peer").
type cmdConn struct {
	cmd       *exec.Cmd
	nc        net.Conn // our end of the pair
	stderr    *limitedBuffer
	exited    chan struct{}
	closeOnce sync.Once
}

// startCommand runs name with args, as virNetSocketNewConnectCommand:
// in a session of its own (no terminal to prompt on), with libvirt's
// environment.
func startCommand(name string, args []string) (*cmdConn, error) {
	ours, theirs, err := socketPair()
	if err != nil {
		return nil, err
	}
	c := &cmdConn{cmd: exec.Command(name, args...), nc: ours,
		stderr: &limitedBuffer{max: stderrLimit}, exited: make(chan struct{})}
	c.cmd.Stdin, c.cmd.Stdout, c.cmd.Stderr = theirs, theirs, c.stderr
	c.cmd.Env = []string{"LC_ALL=C"}
	for _, k := range passEnv {
		if v, ok := os.LookupEnv(k); ok {
			c.cmd.Env = append(c.cmd.Env, k+"="+v)
		}
	}
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = c.cmd.Start()
	theirs.Close() // the command's end is its own now
	if err != nil {
		ours.Close()
		return nil, execError(name, err)
	}
	go func() {
		c.cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

// socketPair is a connected pair of Unix stream sockets: ours as a
// net.Conn, theirs as the file a command gets.
func socketPair() (net.Conn, *os.File, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, virerr.System(virerr.FromRPC, err, "Unable to create socket pair")
	}
	f := os.NewFile(uintptr(fds[0]), "socketpair")
	ours, err := net.FileConn(f) // a copy of the descriptor
	f.Close()
	if err != nil {
		syscall.Close(fds[1])
		return nil, nil, virerr.System(virerr.FromRPC, err, "Unable to create socket pair")
	}
	return ours, os.NewFile(uintptr(fds[1]), "socketpair"), nil
}

// execError is virCommandRunAsync's failure to run name.
func execError(name string, err error) error {
	if errors.Is(err, exec.ErrNotFound) {
		return virerr.System(virerr.FromNone, syscall.ENOENT, "Cannot find '%s' in path", name)
	}
	return virerr.System(virerr.FromNone, err, "cannot execute binary %s", name)
}

// Read reads the command's output. A failure is worded as
// virNetSocketReadWire words it, with what the command said on its
// standard error ("End of file while reading data: ssh: connect to host
// ...").
func (c *cmdConn) Read(b []byte) (int, error) {
	n, err := c.nc.Read(b)
	if err == nil || errors.Is(err, net.ErrClosed) {
		return n, err
	}
	select {
	case <-c.exited: // its standard error is all read once it has
	case <-time.After(exitWait):
	}
	text := strings.TrimRightFunc(c.stderr.String(), unicode.IsSpace)
	format, cause := "End of file while reading data", error(syscall.EIO)
	var errno syscall.Errno
	if errors.As(err, &errno) {
		format, cause = "Cannot recv data", errno
	}
	if text != "" {
		return n, virerr.System(virerr.FromRPC, cause, "%s: %s", format, text)
	}
	return n, virerr.System(virerr.FromRPC, cause, "%s", format)
}

// Write writes to the command's input.
func (c *cmdConn) Write(b []byte) (int, error) { return c.nc.Write(b) }

// Close closes our end and ends the command: SIGTERM, then SIGKILL if it
// lingers (virProcessAbort).
func (c *cmdConn) Close() error {
	c.closeOnce.Do(func() {
		c.nc.Close()
		select {
		case <-c.exited:
			return
		default:
		}
		c.cmd.Process.Signal(syscall.SIGTERM)
		go func() {
			select {
			case <-c.exited:
			case <-time.After(exitWait):
				c.cmd.Process.Kill()
			}
		}()
	})
	return nil
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (l *limitedBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.max - len(l.buf); room > 0 {
		l.buf = append(l.buf, b[:min(room, len(b))]...)
	}
	return len(b), nil
}

func (l *limitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.buf)
}
