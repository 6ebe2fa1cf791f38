package remote

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend/sim"
	"virtxend/internal/config"
	"virtxend/internal/driver"
	"virtxend/internal/paths"
	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
	"virtxend/internal/xdr"
	"virtxend/test/daemontest"
	"virtxend/tools/genprocs/procfile"
)

// TestReadOnlySocketRefusesEveryWrite calls, on the read-only socket and
// with valid arguments, every procedure libvirt's entry points refuse on
// a read-only connection (the data file, as extracted from libvirt's
// src/libvirt-*.c), each flag-dependent one with its flag: each gets
// VIR_ERR_OPERATION_DENIED with libvirt's text in its file's error
// domain. The secondary drivers' are refused by the libvirtd they are
// passed on to, when one runs beside (it is started if installed).
func TestReadOnlySocketRefusesEveryWrite(t *testing.T) {
	root := t.TempDir()
	withLibvirtd := false
	if _, err := exec.LookPath("libvirtd"); err == nil && os.Geteuid() == 0 {
		daemontest.StartLibvirtd(t, root)
		withLibvirtd = true
	}
	c := readOnlyClient(t, root)
	data := readDataFile(t)
	checked := 0
	for _, p := range data.Procs {
		if !p.RO.Deny || !p.Args {
			continue
		}
		pi := lookupProc(p.Number)
		if pi == nil || pi.NewArgs == nil {
			continue // newer than go-libvirt: no Go types to encode its args
		}
		if pi.driver != driverHypervisor && !withLibvirtd {
			continue
		}
		args := pi.NewArgs()
		if p.RO.When != nil {
			setParam(t, args, p.RO.When)
		}
		fillStrings(reflect.ValueOf(args).Elem())
		body, err := xdr.Marshal(args)
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		_, err = c.Call(context.Background(), ProgramNumber, ProgramVersion, p.Number, body)
		want := "operation forbidden: read only access prevents " + p.API
		if p.RO.Message != "" {
			want = "operation forbidden: " + p.RO.Message
		}
		w := virerr.As(err).Wire()
		if pi.driver != driverHypervisor && w.Code == libvirt.ErrRPC && strings.HasPrefix(w.Message, "unknown procedure") {
			continue // newer than the libvirtd beside (Debian 12's 9.0 ends at 443)
		}
		if err == nil || w.Code != libvirt.ErrOperationDenied || w.Message != want || int(w.Domain) != p.Errors.Value {
			t.Errorf("%d %s on the read-only socket: %v (domain %d), want %q in domain %d",
				p.Number, p.Name, err, w.Domain, want, p.Errors.Value)
		}
		checked++
	}
	t.Logf("%d refused procedures called (libvirtd beside: %v)", checked, withLibvirtd)
	if checked < 100 {
		t.Fatalf("only %d procedures checked", checked)
	}
}

// readOnlyClient serves the remote program, with a driver on a simulated
// host in root, on a read-only socket, and returns a client that opened
// xen:///system on it.
func readOnlyClient(t *testing.T, root string) *rpc.Conn {
	t.Helper()
	p := paths.Under(root)
	cfg := config.DefaultLibxl()
	h, err := sim.Open(sim.Options{Dir: p.SimHostDir(), Host: sim.Shape(cfg.Sim), ShutdownDelay: -1, PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	drv, err := driver.New(cfg, p, h, nil, driver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drv.Close() })
	srv := &rpc.Server{Name: "virtxend", MinWorkers: 2, MaxWorkers: 4}
	srv.Register(New(Deps{Driver: drv, SocketDir: p.SocketDir()}))
	sock := filepath.Join(t.TempDir(), "ro")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	go srv.ServeListener(ln, rpc.ListenerOptions{ReadOnly: true})
	t.Cleanup(func() { srv.Close() })
	c, err := rpc.Dial(context.Background(), sock, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	body, _ := xdr.Marshal(&libvirt.ConnectOpenArgs{Name: libvirt.OptString{"xen:///system"}})
	if _, err := c.Call(context.Background(), ProgramNumber, ProgramVersion, 1, body); err != nil {
		t.Fatal(err)
	}
	return c
}

func readDataFile(t *testing.T) *procfile.File {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "tools", "genprocs", "libvirt-11.3.0.procs"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := procfile.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// setParam makes a flag-dependent rule's condition hold: the argument
// named in the C API (flags, source) gets the value or mask.
func setParam(t *testing.T, args any, c *procfile.Cond) {
	t.Helper()
	v := reflect.ValueOf(args).Elem().FieldByNameFunc(func(n string) bool { return strings.EqualFold(n, c.Param) })
	if !v.IsValid() {
		t.Fatalf("%T has no field %s", args, c.Param)
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(c.Value))
	default:
		v.SetUint(c.Value)
	}
}

// fillStrings gives every string of an args value a non-empty value, as a
// real client's XML, names and paths are: some entry points check that
// an argument is there before the read-only rule.
func fillStrings(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if v.String() == "" {
			v.SetString("x")
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Field(i).CanSet() {
				fillStrings(v.Field(i))
			}
		}
	}
}
