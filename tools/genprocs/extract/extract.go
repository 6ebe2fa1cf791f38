// Package extract reads libvirt's source and states, for every procedure
// of its remote program, what the daemon and the API layer do with it: the
// facts of tools/genprocs' data file (see package procfile).
//
// Where each fact comes from:
//   - number, name, priority, stream, args/ret/msg structs:
//     src/remote/remote_protocol.x
//   - callable before authentication: src/remote/remote_daemon.c
//   - the entry point called, and the driver an event message belongs to:
//     src/remote/remote_daemon_dispatch.c, and gendispatch.pl's naming for
//     the dispatchers it generates
//   - the driver a call belongs to: the driver tables of
//     src/remote/remote_driver.c, the client that sends it
//   - read-only rule and error domain: the entry point in src/libvirt*.c,
//     with constants from include/libvirt/*.h
//   - callable before CONNECT_OPEN: facts.go, by hand
package extract

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"virtxend/tools/genprocs/procfile"
)

// source is the parsed libvirt tree.
type source struct {
	consts *consts
	api    api
	daemon *daemon
	client *clientDriver
}

// Extract reads the libvirt source tree at dir.
func Extract(dir string) (*procfile.File, error) {
	version, err := readVersion(filepath.Join(dir, "meson.build"))
	if err != nil {
		return nil, err
	}
	gendispatch, err := os.ReadFile(filepath.Join(dir, "src", "rpc", "gendispatch.pl"))
	if err != nil {
		return nil, err
	}
	if err := checkFixups(string(gendispatch)); err != nil {
		return nil, err
	}
	xprocs, err := readProtocol(filepath.Join(dir, "src", "remote", "remote_protocol.x"))
	if err != nil {
		return nil, err
	}
	src, err := readSource(dir)
	if err != nil {
		return nil, err
	}
	f := &procfile.File{Version: version}
	for _, xp := range xprocs {
		p, err := src.proc(xp)
		if err != nil {
			return nil, err
		}
		f.Procs = append(f.Procs, p)
	}
	if err := src.messageDrivers(f, xprocs); err != nil {
		return nil, err
	}
	return f, nil
}

func readSource(dir string) (*source, error) {
	c, err := readConsts(filepath.Join(dir, "include", "libvirt"))
	if err != nil {
		return nil, err
	}
	a, err := readAPI(filepath.Join(dir, "src"), c)
	if err != nil {
		return nil, err
	}
	remote := filepath.Join(dir, "src", "remote")
	d, err := readDaemon(filepath.Join(remote, "remote_daemon_dispatch.c"), filepath.Join(remote, "remote_daemon.c"))
	if err != nil {
		return nil, err
	}
	cl, err := readClientDriver(filepath.Join(remote, "remote_driver.c"))
	if err != nil {
		return nil, err
	}
	return &source{consts: c, api: a, daemon: d, client: cl}, nil
}

// proc states what libvirt does with one procedure; an event message's
// driver is filled in later, by messageDrivers.
func (s *source) proc(xp xproc) (procfile.Proc, error) {
	p := procfile.Proc{Number: xp.num, Name: xp.name, Message: xp.message, Args: xp.args, Ret: xp.ret,
		High: xp.high, Stream: xp.stream, NoAuth: s.daemon.noAuth[xp.name], PreOpen: beforeOpen[xp.name]}
	if xp.message {
		return p, nil
	}
	var err error
	if p.Driver, err = s.client.driverOf(xp); err != nil {
		return p, err
	}
	if p.API, err = s.daemon.apiOf(xp, s.api); err != nil || p.API == "" {
		return p, err
	}
	e := s.api[p.API]
	p.Errors = e.errors
	p.RO, err = e.readOnly(p.API, s.consts)
	return p, err
}

// messageDrivers gives each event message the driver of the procedures
// that register for it.
func (s *source) messageDrivers(f *procfile.File, xprocs []xproc) error {
	byDispatcher := map[string]xproc{}
	driver := map[uint32]string{}
	for i, xp := range xprocs {
		byDispatcher[dispatcher(xp)] = xp
		driver[xp.num] = f.Procs[i].Driver
	}
	for i, xp := range xprocs {
		if !xp.message {
			continue
		}
		drivers := map[string]bool{}
		for _, r := range s.daemon.registrars(xp, byDispatcher) {
			drivers[driver[r.num]] = true
		}
		if len(drivers) != 1 {
			return fmt.Errorf("REMOTE_PROC_%s: registered by procedures of drivers %v, want one", xp.name, keys(drivers))
		}
		f.Procs[i].Driver = keys(drivers)[0]
	}
	return nil
}

var mesonVersion = regexp.MustCompile(`(?m)^\s*version:\s*'([^']+)'`)

func readVersion(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	m := mesonVersion.FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("%s: no version", path)
	}
	return string(m[1]), nil
}
