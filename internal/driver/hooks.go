package driver

import (
	"errors"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/domxml"
	"virtxend/internal/hook"
	"virtxend/internal/virerr"
)

// The libxl hook's operations (virHookLibxlOp), each run as libvirt's
// libxl driver runs it: prepare (before a start's devices are prepared),
// start (just before the guest is created), started (once it runs),
// stopped and release (when it has stopped, before and after its
// resources go back), reconnect (for each guest found running when the
// daemon starts) and migrate (the incoming definition, which the hook may
// rewrite). A prepare, start, started, reconnect or migrate hook that fails
// fails what it was run for; the others' failures are only logged.
const (
	hookPrepare   = "prepare"
	hookStart     = "start"
	hookStarted   = "started"
	hookStopped   = "stopped"
	hookRelease   = "release"
	hookReconnect = "reconnect"
	hookMigrate   = "migrate"
)

// hookInput is what d's libxl hook reads (libxlDomainHookRun): the live
// XML, as dumpxml shows it, with the domid while the guest has one; ""
// when no libxl hook is present, so that nothing is formatted for none.
func (drv *Driver) hookInput(d *domain) (string, error) {
	if drv.hooks == nil || !drv.hooks.Present(hook.Libxl) {
		return "", nil
	}
	s := d.snap()
	return formatLive(s.def.parsed(), s.ref.ID, 0, s.netPorts)
}

// runHook runs the libxl hook's op for d; its failure is libvirt's error.
func (drv *Driver) runHook(d *domain, op, subop string) error {
	x, err := drv.hookInput(d)
	if err != nil || x == "" {
		return err
	}
	return drv.callHook(d.ref().Name, op, subop, x)
}

// callHook runs the libxl hook's op for the guest name, on input x.
func (drv *Driver) callHook(name, op, subop, x string) error {
	if x == "" {
		return nil
	}
	if _, err := drv.hooks.Call(hook.Libxl, name, op, subop, "", x, false); err != nil {
		return hookErr(err)
	}
	return nil
}

// logHook is runHook for the operations whose failure changes nothing.
func (drv *Driver) logHook(d *domain, op, subop string) {
	if err := drv.runHook(d, op, subop); err != nil {
		drv.log.Warn("hook script failed", "domain", d.ref().Name, "op", op, "err", err)
	}
}

// hookErr is a failed hook script in libvirt's form (virRunScript:
// VIR_ERR_HOOK_SCRIPT_FAILED around virCommandRun's internal error).
func hookErr(err error) error {
	var he *hook.Error
	if errors.As(err, &he) {
		return virerr.New(virerr.FromHook, libvirt.ErrHookScriptFailed, "internal error: %s", he.Error())
	}
	return err
}

// endLive ends d's live definition after its start failed past the prepare
// hook (libxlDomainCleanup after libxlDomainStartPerform): the stopped hook,
// then releaseLive.
func (drv *Driver) endLive(d *domain) {
	drv.logHook(d, hookStopped, hook.End)
	drv.setID(d, -1)
	drv.releaseLive(d)
}

// releaseLive gives back what d's live definition holds and runs the
// release hook, which reads that definition as it was, without the domid.
func (drv *Driver) releaseLive(d *domain) {
	release, err := drv.hookInput(d)
	if err != nil {
		drv.log.Warn("cannot format the release hook's input", "domain", d.ref().Name, "err", err)
	}
	name := d.ref().Name
	drv.dropLiveDef(d)
	if err := drv.callHook(name, hookRelease, hook.End, release); err != nil {
		drv.log.Warn("hook script failed", "domain", name, "op", hookRelease, "err", err)
	}
}

// migrateHook passes an incoming migration's definition through the libxl
// hook's migrate operation (libxlDomainMigrationPrepareAny): the hook reads
// it with its secrets and as it migrates, and what it prints, when not
// blank, is the definition the guest arrives with.
func (drv *Driver) migrateHook(def *libvirtxml.Domain, uuid backend.UUID) (*libvirtxml.Domain, backend.UUID, error) {
	if drv.hooks == nil || !drv.hooks.Present(hook.Libxl) {
		return def, uuid, nil
	}
	x, err := formatDef(def, -1, domxml.FormatSecure|domxml.FormatMigratable)
	if err != nil {
		return nil, uuid, err
	}
	out, err := drv.hooks.Call(hook.Libxl, def.Name, hookMigrate, hook.Begin, "", x, true)
	if err != nil {
		return nil, uuid, hookErr(err)
	}
	if strings.TrimSpace(out) == "" {
		return def, uuid, nil
	}
	return parseDef(out, false)
}

// reconnectHook runs the libxl hook's reconnect operation for a guest found
// running at start (libxlReconnectDomain); when it fails, the domain is
// cleaned up as stopped (the guest itself is left to run, as libvirt
// leaves it) and a transient one forgotten; it reports whether the hook
// let the guest be managed.
func (drv *Driver) reconnectHook(d *domain) bool {
	err := drv.runHook(d, hookReconnect, hook.Begin)
	if err == nil {
		return true
	}
	name := d.ref().Name
	drv.log.Error("the reconnect hook failed: the domain is no longer managed", "domain", name, "err", err)
	d.setState(libvirt.DomainShutoff, int32(libvirt.DomainShutoffUnknown))
	drv.cleanup(d)
	drv.forgetTransient(d)
	return false
}
