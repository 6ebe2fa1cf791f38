package admin_test

import (
	"strings"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/admin"
	"virtxend/internal/virerr"
)

func str(s string) *string { return &s }

func TestLoggingFiltersAndOutputs(t *testing.T) {
	e := newEnv(t)
	c := e.admin()
	var f admin.LoggingFiltersRet
	must(t, c.Call(admin.ProcConnectGetLoggingFilters, &admin.FlagsArgs{}, &f))
	if f.Filters != nil || f.NFilters != 0 {
		t.Errorf("no filters: got %+v", f)
	}
	must(t, c.Call(admin.ProcConnectSetLoggingFilters, &admin.SetLoggingArgs{Value: str("1:rpc 3:remote")}, nil))
	must(t, c.Call(admin.ProcConnectGetLoggingFilters, &admin.FlagsArgs{}, &f))
	if f.Filters == nil || *f.Filters != "1:rpc 3:remote" || f.NFilters != 2 {
		t.Errorf("filters: got %+v", f)
	}
	must(t, c.Call(admin.ProcConnectSetLoggingFilters, &admin.SetLoggingArgs{}, nil))
	if e.logging.Filters() != "" {
		t.Errorf("NULL filters left %q", e.logging.Filters())
	}

	var o admin.LoggingOutputsRet
	must(t, c.Call(admin.ProcConnectSetLoggingOutputs, &admin.SetLoggingArgs{Value: str("1:file:/x 2:stderr")}, nil))
	must(t, c.Call(admin.ProcConnectGetLoggingOutputs, &admin.FlagsArgs{}, &o))
	if o.Outputs != "1:file:/x 2:stderr" || o.NOutputs != 2 {
		t.Errorf("outputs: got %+v", o)
	}
	log := e.logBuf.String()
	if !strings.Contains(log, "log filters changed") || !strings.Contains(log, "log outputs changed") {
		t.Errorf("changes not logged:\n%s", log)
	}

	e.logging.fail = virErr()
	wantErr(t, c.Call(admin.ProcConnectSetLoggingOutputs, &admin.SetLoggingArgs{Value: str("9:x")}, nil),
		libvirt.ErrInvalidArg, virerr.FromNone, "invalid argument: bad output")
	wantErr(t, c.Call(admin.ProcConnectGetLoggingOutputs, &admin.FlagsArgs{Flags: 8}, &o), libvirt.ErrInvalidArg, virerr.FromAdmin,
		"unsupported flags (0x8) in function adminConnectGetLoggingOutputs")
}

func virErr() error { return virerr.New(virerr.FromNone, libvirt.ErrInvalidArg, "bad output") }

func TestDaemonTimeoutAndShutdown(t *testing.T) {
	e := newEnv(t)
	c := e.admin()
	must(t, c.Call(admin.ProcConnectSetDaemonTimeout, &admin.SetDaemonTimeoutArgs{Timeout: 7}, nil))
	must(t, c.Call(admin.ProcConnectSetDaemonTimeout, &admin.SetDaemonTimeoutArgs{Timeout: 0}, nil))
	wantErr(t, c.Call(admin.ProcConnectDaemonShutdown, &admin.FlagsArgs{Flags: 2}, nil), libvirt.ErrInvalidArg, virerr.FromAdmin,
		"unsupported flags (0x2) in function adminConnectDaemonShutdown")
	must(t, c.Call(admin.ProcConnectDaemonShutdown, &admin.FlagsArgs{Flags: admin.DaemonShutdownPreserve}, nil))
	must(t, c.Call(admin.ProcConnectDaemonShutdown, &admin.FlagsArgs{}, nil))
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.timeouts) != 2 || e.timeouts[0] != 7*time.Second || e.timeouts[1] != 0 {
		t.Errorf("timeouts %v", e.timeouts)
	}
	if len(e.shutdowns) != 2 || !e.shutdowns[0] || e.shutdowns[1] {
		t.Errorf("shutdowns %v", e.shutdowns)
	}
	if !strings.Contains(e.logBuf.String(), "daemon shutdown requested") {
		t.Errorf("not logged:\n%s", e.logBuf.String())
	}
}
