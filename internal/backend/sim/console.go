package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"

	"virtxend/internal/backend"
	"virtxend/internal/libxltypes"
	"virtxend/internal/store"
)

// The simulated host's consoles are served by a console daemon of its own,
// as xenconsoled serves real Xen's: a process the host starts detached when
// a guest is created (or when a daemon attaches to a host with guests and
// none runs), which holds every guest console's pty master and slave, so
// the ptys live as long as the guests, not as long as the daemon that
// started them. It runs the simulated guests' side of the consoles
// (guestTTY) and exits once no guest is left.
//
// Files in the host's directory:
//
//	console.lock   flocked by the running console daemon for its whole life
//	consoles.json  the ptys it holds (consoleFile), rewritten on change
//	console.log    what it logs
const (
	consoleLockName = "console.lock"
	consoleFileName = "consoles.json"
	consoleLogName  = "console.log"
	// ConsoledName is the console daemon's process name (argv[0]): a
	// binary started under it runs ConsoledMain instead of its own main.
	ConsoledName = "virtxend-simconsole"
)

// consoleFileVersion is the layout version of consoles.json.
const consoleFileVersion = 1

// consoleFile is consoles.json: the ptys of the running console daemon.
type consoleFile struct {
	Version int `json:"version"`
	// BootID is the simulated host boot the entries belong to.
	BootID string `json:"boot_id"`
	// Pid is the console daemon's, for people and tests.
	Pid      int            `json:"pid"`
	Consoles []consoleEntry `json:"consoles"`
}

// consoleEntry is one guest console: Xen's PV console N or serial port N.
type consoleEntry struct {
	DomID  backend.DomID `json:"domid"`
	Serial bool          `json:"serial,omitempty"`
	Port   int           `json:"port"`
	Path   string        `json:"path"`
	// Greeted: the guest has printed its boot banner here, so a restarted
	// console daemon does not print it again.
	Greeted bool `json:"greeted,omitempty"`
	// NMIs: how many NMIs the guest has reported here.
	NMIs int `json:"nmis,omitempty"`
}

// consoleKey names a console of a guest.
type consoleKey struct {
	id     backend.DomID
	serial bool
	port   int
}

func (e consoleEntry) key() consoleKey { return consoleKey{e.DomID, e.Serial, e.Port} }

// consolesOf lists the consoles Xen gives a guest of cfg: PV console 0
// always, and for an HVM guest each serial port on a pty.
func consolesOf(id backend.DomID, cfg *libxltypes.DomainConfig) []consoleKey {
	keys := []consoleKey{{id: id}}
	if cfg == nil || cfg.CInfo.Type != "hvm" || cfg.BInfo.HVM == nil {
		return keys
	}
	serials := cfg.BInfo.HVM.SerialList
	if len(serials) == 0 && cfg.BInfo.HVM.Serial != "" {
		serials = []string{cfg.BInfo.HVM.Serial}
	}
	for i, s := range serials {
		if s == "pty" {
			keys = append(keys, consoleKey{id: id, serial: true, port: i})
		}
	}
	return keys
}

// devName is what the guest calls console k.
func (k consoleKey) devName() string {
	if k.serial {
		return fmt.Sprintf("ttyS%d", k.port)
	}
	return fmt.Sprintf("hvc%d", k.port)
}

// loadConsoleFile reads consoles.json; a missing file has no consoles.
func loadConsoleFile(path string) (*consoleFile, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &consoleFile{Version: consoleFileVersion}, nil
	}
	if err != nil {
		return nil, err
	}
	return parseConsoleFile(b)
}

// parseConsoleFile decodes and checks consoles.json.
func parseConsoleFile(b []byte) (*consoleFile, error) {
	cf := &consoleFile{}
	if err := json.Unmarshal(b, cf); err != nil {
		return nil, fmt.Errorf("%s: %w", consoleFileName, err)
	}
	if cf.Version != consoleFileVersion {
		return nil, fmt.Errorf("%s: version %d, want %d", consoleFileName, cf.Version, consoleFileVersion)
	}
	seen := map[consoleKey]bool{}
	for _, e := range cf.Consoles {
		switch {
		case e.DomID == backend.Dom0 || e.Port < 0:
			return nil, fmt.Errorf("%s: console %d of domid %d is impossible", consoleFileName, e.Port, e.DomID)
		case seen[e.key()]:
			return nil, fmt.Errorf("%s: console %d of domid %d appears twice", consoleFileName, e.Port, e.DomID)
		}
		seen[e.key()] = true
	}
	return cf, nil
}

func saveConsoleFile(path string, cf *consoleFile) error {
	b, err := json.MarshalIndent(cf, "", "  ")
	if err != nil {
		return err
	}
	return store.WriteFile(path, append(b, '\n'), 0o600)
}

// consoledRunning reports whether a console daemon holds dir's console
// lock. Probing takes the lock for an instant, which a console daemon
// starting at that moment survives by retrying (lockConsoled).
func consoledRunning(dir string) bool {
	f, err := os.OpenFile(filepath.Join(dir, consoleLockName), os.O_RDONLY|os.O_CREATE|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return errors.Is(err, syscall.EWOULDBLOCK)
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}

// alive reports whether process pid exists.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// ensureConsoled starts the console daemon if consoles are enabled and
// none runs. The caller holds the host lock, so a console daemon deciding
// to exit (which it decides under that lock too) cannot miss a guest
// created meanwhile.
func (h *Host) ensureConsoled() {
	if h.opts.ConsoleCommand == "" || consoledRunning(h.opts.Dir) {
		return
	}
	logf, err := os.OpenFile(filepath.Join(h.opts.Dir, consoleLogName), os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		h.opts.Logger.Warn("cannot start the simulated console daemon", "err", err)
		return
	}
	defer logf.Close()
	cmd := &exec.Cmd{
		Path: h.opts.ConsoleCommand,
		Args: []string{ConsoledName, h.opts.Dir, h.opts.KernelBootID},
		Dir:  "/", Stdout: logf, Stderr: logf,
		// Nothing of the daemon's environment (its systemd notify socket)
		// concerns it.
		Env: []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"},
		// Its own session: no signal for the daemon's process group or
		// terminal reaches it, and it outlives the daemon.
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if err := cmd.Start(); err != nil {
		h.opts.Logger.Warn("cannot start the simulated console daemon", "err", err)
		return
	}
	h.opts.Logger.Info("simulated console daemon started", "pid", cmd.Process.Pid)
	go cmd.Wait() // reap it if it exits before this process does
}

// ConsoleTTY implements backend.ConsoleTTYs: the pty of console port of
// guest id, once the console daemon has made it.
func (h *Host) ConsoleTTY(ctx context.Context, id backend.DomID, port int, serial bool) (string, error) {
	if h.opts.ConsoleCommand == "" {
		return "", fmt.Errorf("%w: %w: this simulated host has no consoles", backend.ErrFailed, backend.ErrUnsupported)
	}
	cf, err := h.liveConsoleFile()
	if err != nil {
		return "", err
	}
	for _, e := range cf.Consoles {
		if e.key() == (consoleKey{id, serial, port}) {
			return e.Path, nil
		}
	}
	return "", fmt.Errorf("%w: domain %d has no console %d yet", backend.ErrFailed, id, port)
}

// ConsoleServer implements backend.ConsoleServers: the console daemon's
// pid, as it recorded it with the ptys it made.
func (h *Host) ConsoleServer(ctx context.Context) (string, error) {
	if h.opts.ConsoleCommand == "" {
		return "", fmt.Errorf("%w: the simulated console daemon is not running", backend.ErrFailed)
	}
	cf, err := h.liveConsoleFile()
	if err != nil {
		return "", err
	}
	return strconv.Itoa(cf.Pid), nil
}

// liveConsoleFile is the console file of the console daemon running now.
func (h *Host) liveConsoleFile() (*consoleFile, error) {
	if !consoledRunning(h.opts.Dir) {
		return nil, fmt.Errorf("%w: the simulated console daemon is not running", backend.ErrFailed)
	}
	cf, err := loadConsoleFile(filepath.Join(h.opts.Dir, consoleFileName))
	if err != nil {
		return nil, err
	}
	if !alive(cf.Pid) {
		// A console daemon killed before the running one rewrote it.
		return nil, fmt.Errorf("%w: the simulated console daemon is starting", backend.ErrFailed)
	}
	return cf, nil
}
