package admin

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
)

// Typed-parameter names (libvirt-admin.h).
const (
	threadPoolMin      = "minWorkers"    // VIR_THREADPOOL_WORKERS_MIN
	threadPoolMax      = "maxWorkers"    // VIR_THREADPOOL_WORKERS_MAX
	threadPoolPrio     = "prioWorkers"   // VIR_THREADPOOL_WORKERS_PRIORITY
	threadPoolCurrent  = "nWorkers"      // VIR_THREADPOOL_WORKERS_CURRENT
	threadPoolFree     = "freeWorkers"   // VIR_THREADPOOL_WORKERS_FREE
	threadPoolQueue    = "jobQueueDepth" // VIR_THREADPOOL_JOB_QUEUE_DEPTH
	clientsMax         = "nclients_max"
	clientsCurrent     = "nclients"
	clientsUnauthMax   = "nclients_unauth_max"
	clientsUnauthCount = "nclients_unauth"
)

func (p *program) serverProcs() []*rpc.Procedure {
	return []*rpc.Procedure{
		rpc.Proc(ProcServerGetThreadPoolParams, "SERVER_GET_THREADPOOL_PARAMETERS", "virAdmServerGetThreadPoolParameters", 0, p.getThreadPool),
		rpc.Proc(ProcServerSetThreadPoolParams, "SERVER_SET_THREADPOOL_PARAMETERS", "virAdmServerSetThreadPoolParameters", 0, p.setThreadPool),
		rpc.Proc(ProcServerGetClientLimits, "SERVER_GET_CLIENT_LIMITS", "virAdmServerGetClientLimits", 0, p.getClientLimits),
		rpc.Proc(ProcServerSetClientLimits, "SERVER_SET_CLIENT_LIMITS", "virAdmServerSetClientLimits", 0, p.setClientLimits),
		rpc.Proc(ProcServerUpdateTLSFiles, "SERVER_UPDATE_TLS_FILES", "virAdmServerUpdateTlsFiles", 0, p.updateTLSFiles),
	}
}

func (p *program) getThreadPool(_ context.Context, _ *rpc.Client, a *ServerArgs) (*ParamsRet, error) {
	s, err := p.lookupServer(a.Srv.Name)
	if err != nil {
		return nil, err
	}
	if err := checkFlags(a.Flags, 0, "adminServerGetThreadPoolParameters"); err != nil {
		return nil, err
	}
	tp := s.ThreadPool()
	return &ParamsRet{Params: []libvirt.TypedParam{
		uintParam(threadPoolMin, tp.MinWorkers),
		uintParam(threadPoolMax, tp.MaxWorkers),
		uintParam(threadPoolCurrent, tp.NWorkers),
		uintParam(threadPoolFree, tp.FreeWorkers),
		uintParam(threadPoolPrio, tp.PrioWorkers),
		uintParam(threadPoolQueue, tp.JobQueueDepth),
	}}, nil
}

// setThreadPool applies min, max and prio workers live, with
// virThreadPoolSetParameters' checks.
func (p *program) setThreadPool(ctx context.Context, c *rpc.Client, a *SetThreadPoolArgs) (*rpc.Void, error) {
	s, err := p.lookupServerAdmin(a.Srv.Name)
	if err != nil {
		return nil, err
	}
	if err := checkFlags(a.Flags, 0, "adminServerSetThreadPoolParameters"); err != nil {
		return nil, err
	}
	if err := validateUintParams(a.Params, threadPoolMin, threadPoolMax, threadPoolPrio); err != nil {
		return nil, err
	}
	minW, maxW, prio := uintValue(a.Params, threadPoolMin), uintValue(a.Params, threadPoolMax), uintValue(a.Params, threadPoolPrio)
	cur := s.ThreadPool()
	effMin, effMax := orCurrent(minW, cur.MinWorkers), orCurrent(maxW, cur.MaxWorkers)
	if effMin > effMax {
		return nil, virerr.New(virerr.FromNone, libvirt.ErrInvalidArg, "minWorkers cannot be larger than maxWorkers")
	}
	if (maxW == 0) != (cur.MaxWorkers == 0) && maxW >= 0 {
		return nil, virerr.New(virerr.FromNone, libvirt.ErrInvalidArg,
			"maxWorkers must not be switched from zero to non-zero and vice versa")
	}
	s.SetThreadPool(int(minW), int(maxW), int(prio))
	now := s.ThreadPool()
	p.logChange(ctx, c, "thread pool changed", "server", s.Name,
		"min_workers", now.MinWorkers, "max_workers", now.MaxWorkers, "prio_workers", now.PrioWorkers)
	return nil, nil
}

// orCurrent resolves libvirt's -1 ("unchanged") against the current value.
func orCurrent(v int64, cur int) int64 {
	if v < 0 {
		return int64(cur)
	}
	return v
}

func (p *program) getClientLimits(_ context.Context, _ *rpc.Client, a *ServerArgs) (*ParamsRet, error) {
	s, err := p.lookupServer(a.Srv.Name)
	if err != nil {
		return nil, err
	}
	if err := checkFlags(a.Flags, 0, "adminServerGetClientLimits"); err != nil {
		return nil, err
	}
	l := s.ClientLimits()
	return &ParamsRet{Params: []libvirt.TypedParam{
		uintParam(clientsMax, l.MaxClients),
		uintParam(clientsCurrent, l.Clients),
		uintParam(clientsUnauthMax, l.MaxAnonymousClients),
		uintParam(clientsUnauthCount, l.AnonymousClients),
	}}, nil
}

// setClientLimits applies max_clients and max_anonymous_clients live: at
// the new limit the server stops accepting, as libvirt suspends its
// services, and clients already connected stay.
func (p *program) setClientLimits(ctx context.Context, c *rpc.Client, a *SetClientLimitsArgs) (*rpc.Void, error) {
	s, err := p.lookupServerAdmin(a.Srv.Name)
	if err != nil {
		return nil, err
	}
	if err := checkFlags(a.Flags, 0, "adminServerSetClientLimits"); err != nil {
		return nil, err
	}
	if err := validateUintParams(a.Params, clientsMax, clientsUnauthMax); err != nil {
		return nil, err
	}
	maxC, maxU := uintValue(a.Params, clientsMax), uintValue(a.Params, clientsUnauthMax)
	cur := s.ClientLimits()
	if orCurrent(maxC, cur.MaxClients) < orCurrent(maxU, cur.MaxAnonymousClients) {
		return nil, virerr.New(virerr.FromRPC, libvirt.ErrInvalidArg,
			"The overall maximum number of clients must not be less than the number of clients waiting for authentication")
	}
	s.SetClientLimits(int(maxC), int(maxU)) // -1: the parameter was not given
	now := s.ClientLimits()
	p.logChange(ctx, c, "client limits changed", "server", s.Name,
		"max_clients", now.MaxClients, "max_anonymous_clients", now.MaxAnonymousClients)
	return nil, nil
}

// updateTLSFiles answers as libvirt does for a server without a TLS
// listener: this daemon has none.
func (p *program) updateTLSFiles(_ context.Context, _ *rpc.Client, a *ServerArgs) (*rpc.Void, error) {
	if _, err := p.lookupServer(a.Srv.Name); err != nil {
		return nil, err
	}
	if err := checkFlags(a.Flags, 0, "adminServerUpdateTlsFiles"); err != nil {
		return nil, err
	}
	return nil, virerr.New(virerr.FromRPC, libvirt.ErrInternalError, "no tls service found, unable to update tls files")
}
