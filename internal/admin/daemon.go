package admin

import (
	"context"
	"time"

	"virtxend/internal/rpc"
)

func (p *program) daemonProcs() []*rpc.Procedure {
	return []*rpc.Procedure{
		rpc.Proc(ProcConnectGetLoggingOutputs, "CONNECT_GET_LOGGING_OUTPUTS", "virAdmConnectGetLoggingOutputs", 0, p.getLoggingOutputs),
		rpc.Proc(ProcConnectGetLoggingFilters, "CONNECT_GET_LOGGING_FILTERS", "virAdmConnectGetLoggingFilters", 0, p.getLoggingFilters),
		rpc.Proc(ProcConnectSetLoggingOutputs, "CONNECT_SET_LOGGING_OUTPUTS", "virAdmConnectSetLoggingOutputs", 0, p.setLoggingOutputs),
		rpc.Proc(ProcConnectSetLoggingFilters, "CONNECT_SET_LOGGING_FILTERS", "virAdmConnectSetLoggingFilters", 0, p.setLoggingFilters),
		rpc.Proc(ProcConnectSetDaemonTimeout, "CONNECT_SET_DAEMON_TIMEOUT", "virAdmConnectSetDaemonTimeout", 0, p.setDaemonTimeout),
		rpc.Proc(ProcConnectDaemonShutdown, "CONNECT_DAEMON_SHUTDOWN", "virAdmConnectDaemonShutdown", 0, p.daemonShutdown),
	}
}

func (p *program) getLoggingOutputs(_ context.Context, _ *rpc.Client, a *FlagsArgs) (*LoggingOutputsRet, error) {
	if err := checkFlags(a.Flags, 0, "adminConnectGetLoggingOutputs"); err != nil {
		return nil, err
	}
	return &LoggingOutputsRet{Outputs: p.deps.Logging.Outputs(), NOutputs: uint32(p.deps.Logging.NumOutputs())}, nil
}

// getLoggingFilters sends a NULL string when there are no filters, as
// libvirt does.
func (p *program) getLoggingFilters(_ context.Context, _ *rpc.Client, a *FlagsArgs) (*LoggingFiltersRet, error) {
	if err := checkFlags(a.Flags, 0, "adminConnectGetLoggingFilters"); err != nil {
		return nil, err
	}
	n := p.deps.Logging.NumFilters()
	ret := &LoggingFiltersRet{NFilters: uint32(n)}
	if n > 0 {
		f := p.deps.Logging.Filters()
		ret.Filters = &f
	}
	return ret, nil
}

// setLoggingOutputs applies outputs live; NULL or "" restores the default.
func (p *program) setLoggingOutputs(ctx context.Context, c *rpc.Client, a *SetLoggingArgs) (*rpc.Void, error) {
	if err := checkFlags(a.Flags, 0, "adminConnectSetLoggingOutputs"); err != nil {
		return nil, err
	}
	if err := p.deps.Logging.SetOutputs(deref(a.Value)); err != nil {
		return nil, err
	}
	p.logChange(ctx, c, "log outputs changed", "outputs", p.deps.Logging.Outputs())
	return nil, nil
}

// setLoggingFilters applies filters live; NULL or "" removes them all.
func (p *program) setLoggingFilters(ctx context.Context, c *rpc.Client, a *SetLoggingArgs) (*rpc.Void, error) {
	if err := checkFlags(a.Flags, 0, "adminConnectSetLoggingFilters"); err != nil {
		return nil, err
	}
	if err := p.deps.Logging.SetFilters(deref(a.Value)); err != nil {
		return nil, err
	}
	p.logChange(ctx, c, "log filters changed", "filters", p.deps.Logging.Filters())
	return nil, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// setDaemonTimeout is virNetDaemonAutoShutdown: the daemon stops once it
// has had no client for timeout seconds; 0 disables that.
func (p *program) setDaemonTimeout(ctx context.Context, c *rpc.Client, a *SetDaemonTimeoutArgs) (*rpc.Void, error) {
	if err := checkFlags(a.Flags, 0, "adminConnectSetDaemonTimeout"); err != nil {
		return nil, err
	}
	d := time.Duration(a.Timeout) * time.Second
	p.deps.SetIdleTimeout(d)
	p.logChange(ctx, c, "idle timeout changed", "timeout", d)
	return nil, nil
}

// daemonShutdown asks the daemon to stop; the reply goes out first, since
// the daemon lets calls in flight finish.
func (p *program) daemonShutdown(ctx context.Context, c *rpc.Client, a *FlagsArgs) (*rpc.Void, error) {
	if err := checkFlags(a.Flags, DaemonShutdownPreserve, "adminConnectDaemonShutdown"); err != nil {
		return nil, err
	}
	preserve := a.Flags&DaemonShutdownPreserve != 0
	p.logChange(ctx, c, "daemon shutdown requested", "preserve", preserve)
	p.deps.Shutdown(preserve)
	return nil, nil
}
