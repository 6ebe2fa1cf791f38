package driver

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"
)

// The lifecycle events and actions of virDomainSetLifecycleAction by
// number (virDomainLifecycle, virDomainLifecycleAction), as the XML's
// <on_poweroff> etc. name them.
var (
	lifecycleEvents  = [...]string{"poweroff", "reboot", "crash"}
	lifecycleActions = [...]string{actDestroy, actRestart, actRenameRestart, actPreserve, actCoredumpDestroy, actCoredumpRestart}
)

// SetLifecycleAction is virDomainSetLifecycleAction (flags:
// VIR_DOMAIN_AFFECT_LIVE, _CONFIG), which libvirt's libxl driver lacks,
// as libvirt's QEMU driver does it: what the daemon does when the guest
// powers off, reboots or crashes, in the live definition (the next time
// this boot does it) and/or the persistent one. Domain-0 is refused.
func (drv *Driver) SetLifecycleAction(ctx context.Context, dom Domain, event, action, flags uint32) error {
	// the entry point's range checks (libvirt-domain.c), then
	// virDomainDefLifecycleActionAllowed
	if event >= uint32(len(lifecycleEvents)) {
		return domainErr(libvirt.ErrInvalidArg, "invalid lifecycle type '%d'", event)
	}
	if action >= uint32(len(lifecycleActions)) {
		return domainErr(libvirt.ErrInvalidArg, "invalid lifecycle action '%d'", action)
	}
	live, config := uint32(libvirt.DomainAffectLive), uint32(libvirt.DomainAffectConfig)
	if err := checkFlags(flags, live|config, "libxlDomainSetLifecycleAction"); err != nil {
		return err
	}
	name := lifecycleActions[action]
	if event != uint32(libvirt.DomainLifecycleCrash) && (name == actCoredumpDestroy || name == actCoredumpRestart) {
		return domainErr(libvirt.ErrConfigUnsupported, "Lifecycle event '%s' doesn't support '%s' action", lifecycleEvents[event], name)
	}
	d, flags, err := drv.modifyNonDom0(ctx, dom, flags)
	if err != nil {
		return err
	}
	defer drv.endJob(d)
	set := func(def *libvirtxml.Domain) {
		switch libvirt.DomainLifecycle(event) {
		case libvirt.DomainLifecyclePoweroff:
			def.OnPoweroff = name
		case libvirt.DomainLifecycleReboot:
			def.OnReboot = name
		default:
			def.OnCrash = name
		}
	}
	if flags&live != 0 {
		drv.editLive(d, set)
		if err := drv.saveStatusIfActive(d); err != nil {
			return err
		}
	}
	if flags&config != 0 {
		return drv.editPersistent(d, set)
	}
	return nil
}
