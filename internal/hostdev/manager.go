package hostdev

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/pci"
	"virtxend/internal/store"
	"virtxend/internal/virerr"
)

// DriverName is the name the Xen driver uses for itself in "in use"
// errors (libvirt's LIBXL_DRIVER_INTERNAL_NAME).
const DriverName = "xenlight"

// Stub is the stub driver Xen's guests get devices from (xen-pciback,
// named "pciback" in sysfs).
const Stub = pci.StubXen

// Host is what the manager asks of the host's PCI devices: package pci's
// rules over the host's bus.
type Host interface {
	Exists(a pci.Addr) bool
	HeaderType(a pci.Addr) (pci.Header, error)
	// Assignable is virPCIDeviceIsAssignable.
	Assignable(a pci.Addr, strictACS bool) (bool, error)
	Driver(a pci.Addr) (string, error)
	ProbeStub(stub string) error
	// BindToStub reports whether it moved the device (false: it was on
	// the stub already).
	BindToStub(a pci.Addr, stub string) (bool, error)
	UnbindFromStub(a pci.Addr) error
	// Reset resets the device; devices on the same bus that inactive
	// accepts do not stop a bus reset.
	Reset(a pci.Addr, inactive func(pci.Addr) bool) error
}

// Device is a guest's PCI host device: its address and whether the
// daemon takes it from the host and gives it back (managed='yes').
type Device struct {
	Addr    pci.Addr
	Managed bool
}

// entry is one device of a list. UnbindFromStub is libvirt's
// unbind_from_stub: the device was on another driver (or none) before the
// daemon bound it to the stub, so returning it means unbinding it.
type entry struct {
	Addr           pci.Addr `json:"-"`
	Name           string   `json:"addr"`
	Managed        bool     `json:"managed,omitempty"`
	UnbindFromStub bool     `json:"unbind_from_stub,omitempty"`
	Domain         string   `json:"domain,omitempty"`
}

// Manager holds the active and inactive lists. Its methods are safe for
// concurrent use; each holds the manager's lock for its whole step, as
// libvirt holds both lists' locks.
type Manager struct {
	mu       sync.Mutex
	host     Host
	path     string
	log      *slog.Logger
	active   map[pci.Addr]*entry
	inactive map[pci.Addr]*entry
	// usb are the USB host devices in use, with their domains (usb.go).
	usb map[USB]string
}

// state is the state file's content.
type state struct {
	Active   []*entry   `json:"active"`
	Inactive []*entry   `json:"inactive"`
	USB      []usbEntry `json:"usb,omitempty"`
}

// New loads the lists from path (none yet: both empty). An unreadable
// file is logged and set aside: the lists start empty, as libvirt's do.
func New(host Host, path string, log *slog.Logger) *Manager {
	m := &Manager{host: host, path: path, log: log, active: map[pci.Addr]*entry{}, inactive: map[pci.Addr]*entry{}, usb: map[USB]string{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return m
	}
	var st state
	if err == nil {
		err = json.Unmarshal(b, &st)
	}
	if err != nil {
		log.Warn("cannot read the host devices' state; starting with none in use", "path", path, "err", err)
		return m
	}
	m.load(st.Active, m.active)
	m.load(st.Inactive, m.inactive)
	for _, u := range st.USB {
		m.usb[USB{Bus: u.Bus, Dev: u.Dev}] = u.Domain
	}
	return m
}

func (m *Manager) load(es []*entry, into map[pci.Addr]*entry) {
	for _, e := range es {
		a, err := pci.ParseAddr(e.Name)
		if err != nil {
			m.log.Warn("host devices' state names a bad address", "addr", e.Name)
			continue
		}
		e.Addr = a
		into[a] = e
	}
}

// save writes both lists; the caller holds m.mu. A failure is logged: the
// lists in memory stay right, and the next change writes them again.
func (m *Manager) save() {
	st := state{Active: sorted(m.active), Inactive: sorted(m.inactive), USB: m.usbEntries()}
	b, err := json.MarshalIndent(st, "", "  ")
	if err == nil {
		err = store.WriteFile(m.path, append(b, '\n'), 0o600)
	}
	if err != nil {
		m.log.Error("cannot save the host devices' state", "path", m.path, "err", err)
	}
}

func sorted(l map[pci.Addr]*entry) []*entry {
	out := make([]*entry, 0, len(l))
	for _, e := range l {
		e.Name = e.Addr.String()
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// InUse lists the active devices and their domains, for the log and tests.
func (m *Manager) InUse() map[pci.Addr]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[pci.Addr]string, len(m.active))
	for a, e := range m.active {
		out[a] = e.Domain
	}
	return out
}

// usedErr is virHostdevIsPCINodeDeviceUsed's error when a is active.
func (m *Manager) usedErr(a pci.Addr) error {
	e := m.active[a]
	if e == nil {
		return nil
	}
	if e.Domain == "" {
		return virerr.New(virerr.FromNone, libvirt.ErrOperationInvalid, "PCI device %s is in use", a)
	}
	return virerr.New(virerr.FromNone, libvirt.ErrOperationInvalid, "PCI device %s is in use by driver %s, domain %s", a, DriverName, e.Domain)
}

func internalErr(format string, args ...any) error {
	return virerr.New(virerr.FromNone, libvirt.ErrInternalError, format, args...)
}

func (m *Manager) String() string { return fmt.Sprintf("hostdev.Manager(%s)", m.path) }
