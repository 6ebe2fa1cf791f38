package admin_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/admin"
	"virtxend/internal/admin/admintest"
	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
)

// fakeLogging is a LogControl that stores what it is given.
type fakeLogging struct {
	mu               sync.Mutex
	filters, outputs string
	fail             error
}

func (f *fakeLogging) Filters() string { f.mu.Lock(); defer f.mu.Unlock(); return f.filters }
func (f *fakeLogging) Outputs() string { f.mu.Lock(); defer f.mu.Unlock(); return f.outputs }
func (f *fakeLogging) NumFilters() int { return len(strings.Fields(f.Filters())) }
func (f *fakeLogging) NumOutputs() int { return len(strings.Fields(f.Outputs())) }
func (f *fakeLogging) SetFilters(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.filters = s
	return nil
}
func (f *fakeLogging) SetOutputs(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	if s == "" {
		s = "3:stderr"
	}
	f.outputs = s
	return nil
}

// env is an admin server and a main server, both serving Unix sockets in a
// temporary directory, with the admin program's dependencies recorded.
type env struct {
	t         *testing.T
	main, adm *rpc.Server
	mainSock  string
	adminSock string
	logging   *fakeLogging
	logBuf    *syncBuffer
	mu        sync.Mutex
	timeouts  []time.Duration
	shutdowns []bool
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, logging: &fakeLogging{outputs: "3:stderr"}, logBuf: &syncBuffer{},
		mainSock: filepath.Join(dir, "main"), adminSock: filepath.Join(dir, "admin")}
	e.main = &rpc.Server{Name: "virtxend", MinWorkers: 2, MaxWorkers: 8, PrioWorkers: 1}
	e.adm = &rpc.Server{Name: "admin", MinWorkers: 1, MaxWorkers: 5}
	e.adm.Register(admin.New(admin.Deps{
		Logger:  slog.New(slog.NewTextHandler(e.logBuf, nil)),
		Servers: []*rpc.Server{e.main, e.adm},
		Logging: e.logging,
		SetIdleTimeout: func(d time.Duration) {
			e.mu.Lock()
			e.timeouts = append(e.timeouts, d)
			e.mu.Unlock()
		},
		Shutdown: func(preserve bool) {
			e.mu.Lock()
			e.shutdowns = append(e.shutdowns, preserve)
			e.mu.Unlock()
		},
	}))
	e.serve(e.main, e.mainSock)
	e.serve(e.adm, e.adminSock)
	return e
}

func (e *env) serve(s *rpc.Server, path string) {
	ln, err := net.Listen("unix", path)
	if err != nil {
		e.t.Fatal(err)
	}
	go s.Serve(ln)
	e.t.Cleanup(func() { s.Close() })
}

// dial opens a connection to path, closed when the test ends.
func (e *env) dial(path string) *admintest.Conn {
	e.t.Helper()
	c, err := admintest.Dial(path)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

// admin opens an admin connection.
func (e *env) admin() *admintest.Conn {
	e.t.Helper()
	c := e.dial(e.adminSock)
	must(e.t, c.Call(admin.ProcConnectOpen, &admin.FlagsArgs{}, nil))
	return c
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr checks an error reply's code, domain and message.
func wantErr(t *testing.T, err error, code libvirt.ErrorNumber, dom virerr.Domain, msg string) {
	t.Helper()
	var e *admintest.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want error %q", err, msg)
	}
	if e.Code != int32(code) || e.Domain != int32(dom) || e.Msg() != msg {
		t.Errorf("got code %d domain %d %q, want code %d domain %d %q", e.Code, e.Domain, e.Msg(), code, dom, msg)
	}
}

// params turns a typed-parameter list into a map of its values.
func params(list []libvirt.TypedParam) map[string]any {
	m := map[string]any{}
	for _, p := range list {
		m[p.Field] = p.Value.I
	}
	return m
}

func uintP(name string, v uint32) libvirt.TypedParam {
	return libvirt.TypedParam{Field: name, Value: *libvirt.NewTypedParamValueUint(v)}
}

// waitClosed waits until the server has closed c.
func waitClosed(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("connection not closed by the server: %v", err)
	}
}
