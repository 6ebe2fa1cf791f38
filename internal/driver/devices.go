package driver

import (
	"context"
	"errors"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/domxml"
	"virtxend/internal/events"
)

// Device hotplug: virDomainAttachDeviceFlags, virDomainDetachDeviceFlags
// and virDomainUpdateDeviceFlags as libvirt's libxl driver does them
// (libxlDomainAttachDeviceFlags and friends, libxl_driver.c). The device
// XML is parsed once per definition it changes; the persistent definition
// is changed on a copy, checked first, and written only once the live
// change (if any) succeeded; the live one changes only after the backend
// did what was asked, and its status file is written at once.
//
// The code is split by device kind: devices_config.go (the persistent
// definition), devices_disk.go, devices_net.go, devices_hostdev.go (host
// devices and USB controllers).
//
// Beyond libvirt's libxl driver, the live definition names the devices it
// gains (domxml.AssignAliases) and the device events follow, as libvirt's
// QEMU driver sends them: DEVICE_ADDED after a live attach, DEVICE_REMOVED
// after a live detach, DEVICE_REMOVAL_FAILED when the guest did not let
// the device go in time.

// The flags the three calls take (VIR_DOMAIN_DEVICE_MODIFY_*).
const (
	modifyLive   = uint32(libvirt.DomainDeviceModifyLive)
	modifyConfig = uint32(libvirt.DomainDeviceModifyConfig)
)

// DefaultDeviceRemoveTimeout is how long a detach waits for the guest to
// let a device go: libxl's LIBXL_DESTROY_TIMEOUT.
const DefaultDeviceRemoveTimeout = 10 * time.Second

func (drv *Driver) deviceRemoveTimeout() time.Duration {
	if drv.opts.DeviceRemoveTimeout > 0 {
		return drv.opts.DeviceRemoveTimeout
	}
	return DefaultDeviceRemoveTimeout
}

// deviceJob finds the domain and takes its job for a device change: not
// Domain-0, whose devices are the host's.
func (drv *Driver) deviceJob(ctx context.Context, dom Domain) (*domain, error) {
	d, err := drv.findNonDom0(dom)
	if err != nil {
		return nil, err
	}
	if err := drv.beginJob(ctx, d); err != nil {
		return nil, err
	}
	return d, nil
}

// modifyNonDom0 takes the job of dom, never Domain-0, for a change of its
// live and/or persistent definition as flags say (VIR_DOMAIN_AFFECT_*,
// resolved by modImpact). The caller ends the job.
func (drv *Driver) modifyNonDom0(ctx context.Context, dom Domain, flags uint32) (*domain, uint32, error) {
	d, err := drv.deviceJob(ctx, dom)
	if err != nil {
		return nil, 0, err
	}
	if flags, err = modImpact(d.snap(), flags); err != nil {
		drv.endJob(d)
		return nil, 0, err
	}
	return d, flags, nil
}

// parseDevice parses a client's device XML against d's live definition.
func (drv *Driver) parseDevice(d *domain, xml string, skipValidate bool) (*domxml.Device, error) {
	return domxml.ParseDevice(xml, d.snap().def.parsed(), domxml.DeviceOptions{SkipValidate: skipValidate})
}

// deviceCall is one of the three device calls, as libvirt's libxl driver
// makes each (libxlDomain{Attach,Detach,Update}DeviceFlags): the flags
// checked, the job taken, the persistent definition changed on a copy and
// checked first, then the guest changed, its status saved even when that
// failed (part of it, a USB controller, may have been plugged), and the
// copy written last.
type deviceCall struct {
	api string // libvirt's function, for the unsupported-flags error
	// skipValidate: the device's XML only names a device (detach), and
	// is not validated.
	skipValidate bool
	config       func(def *libvirtxml.Domain, dev *domxml.Device) error
	// live changes the running guest; conf is the device parsed for the
	// persistent definition, nil without _CONFIG. It returns the alias of
	// a device the guest gained, for DEVICE_ADDED.
	live func(ctx context.Context, d *domain, dev, conf *domxml.Device) (added string, err error)
}

func (drv *Driver) deviceCall(ctx context.Context, dom Domain, xml string, flags uint32, c deviceCall) error {
	if err := checkFlags(flags, modifyLive|modifyConfig, c.api); err != nil {
		return err
	}
	d, flags, err := drv.modifyNonDom0(ctx, dom, flags)
	if err != nil {
		return err
	}
	defer drv.endJob(d)
	var cfgDef *libvirtxml.Domain
	var devConf *domxml.Device
	if flags&modifyConfig != 0 {
		if devConf, err = drv.parseDevice(d, xml, c.skipValidate); err != nil {
			return err
		}
		if cfgDef, err = drv.persistentCopy(d); err != nil {
			return err
		}
		if err := c.config(cfgDef, devConf); err != nil {
			return err
		}
	}
	if flags&modifyLive != 0 {
		dev, err := drv.parseDevice(d, xml, c.skipValidate)
		if err != nil {
			return err
		}
		added, err := c.live(ctx, d, dev, devConf)
		if serr := drv.saveStatusIfActive(d); err == nil {
			err = serr
		}
		if err != nil {
			return err
		}
		if added != "" {
			drv.broker.Publish(events.NewDevice(events.IDDeviceAdded, d.ref(), added))
		}
	}
	if cfgDef != nil {
		return drv.savePersistent(d, cfgDef)
	}
	return nil
}

// AttachDevice is virDomainAttachDeviceFlags (flags: VIR_DOMAIN_DEVICE_
// MODIFY_LIVE, _CONFIG; the flagless virDomainAttachDevice is LIVE).
func (drv *Driver) AttachDevice(ctx context.Context, dom Domain, xml string, flags uint32) error {
	return drv.deviceCall(ctx, dom, xml, flags, deviceCall{
		api:    "libxlDomainAttachDeviceFlags",
		config: attachConfig,
		live: func(ctx context.Context, d *domain, dev, conf *domxml.Device) (string, error) {
			if conf != nil && conf.Interface != nil {
				// libxlDomainAttachDeviceNormalize: one MAC in both.
				mac := *conf.Interface.MAC
				dev.Interface.MAC = &mac
			}
			return drv.attachLive(ctx, d, dev)
		},
	})
}

// attachLive is libxlDomainAttachDeviceLive; it returns the alias of the
// device the guest gained ("" for a media change).
func (drv *Driver) attachLive(ctx context.Context, d *domain, dev *domxml.Device) (string, error) {
	switch dev.Kind {
	case "disk":
		return drv.attachDiskLive(ctx, d, dev.Disk)
	case "controller":
		return drv.attachControllerLive(ctx, d, dev.Controller)
	case "interface":
		return drv.attachNetLive(ctx, d, dev.Interface)
	case "hostdev":
		return drv.attachHostdevLive(ctx, d, dev.Hostdev)
	}
	return "", libxlErr(libvirt.ErrConfigUnsupported, "device type '%s' cannot be attached", dev.Kind)
}

// DetachDevice is virDomainDetachDeviceFlags (flags: VIR_DOMAIN_DEVICE_
// MODIFY_LIVE, _CONFIG; the flagless virDomainDetachDevice is LIVE). A
// device is named by what identifies it (a disk's target, an interface's
// MAC, ...); its XML is not validated.
func (drv *Driver) DetachDevice(ctx context.Context, dom Domain, xml string, flags uint32) error {
	return drv.deviceCall(ctx, dom, xml, flags, deviceCall{
		api: "libxlDomainDetachDeviceFlags", skipValidate: true, config: detachConfig,
		live: func(ctx context.Context, d *domain, dev, _ *domxml.Device) (string, error) {
			return "", drv.detachLive(ctx, d, dev)
		},
	})
}

// detachLive is libxlDomainDetachDeviceLive.
func (drv *Driver) detachLive(ctx context.Context, d *domain, dev *domxml.Device) error {
	switch dev.Kind {
	case "disk":
		return drv.detachDiskLive(ctx, d, dev.Disk)
	case "controller":
		return drv.detachControllerLive(ctx, d, dev.Controller)
	case "interface":
		return drv.detachNetLive(ctx, d, dev.Interface, dev.MACGenerated)
	case "hostdev":
		return drv.detachHostdevLive(ctx, d, dev.Hostdev)
	}
	return libxlErr(libvirt.ErrConfigUnsupported, "device type '%s' cannot be detached", dev.Kind)
}

// UpdateDevice is virDomainUpdateDeviceFlags (flags: VIR_DOMAIN_DEVICE_
// MODIFY_LIVE, _CONFIG): for Xen, a cdrom's media change.
func (drv *Driver) UpdateDevice(ctx context.Context, dom Domain, xml string, flags uint32) error {
	return drv.deviceCall(ctx, dom, xml, flags, deviceCall{
		api: "libxlDomainUpdateDeviceFlags", config: updateConfig,
		live: func(ctx context.Context, d *domain, dev, _ *domxml.Device) (string, error) {
			return "", drv.updateLive(ctx, d, dev)
		},
	})
}

// updateLive is libxlDomainUpdateDeviceLive: only a cdrom's media.
func (drv *Driver) updateLive(ctx context.Context, d *domain, dev *domxml.Device) error {
	if dev.Kind != "disk" {
		return libxlErr(libvirt.ErrConfigUnsupported, "device type '%s' cannot be updated", dev.Kind)
	}
	if dev.Disk.Device != "cdrom" {
		return libxlErr(libvirt.ErrConfigUnsupported, "disk bus '%s' cannot be updated.", dev.Disk.Target.Bus)
	}
	return drv.changeMedia(ctx, d, dev.Disk)
}

// hotplug is the backend's device hotplug.
func (drv *Driver) hotplug() (backend.DeviceHotplug, error) {
	hp, ok := drv.be.(backend.DeviceHotplug)
	if !ok {
		return nil, libxlErr(libvirt.ErrNoSupport, "device hotplug")
	}
	return hp, nil
}

// addDevice plugs dev into d's guest.
func (drv *Driver) addDevice(ctx context.Context, d *domain, dev backend.Device) (backend.Device, error) {
	hp, err := drv.hotplug()
	if err != nil {
		return backend.Device{}, err
	}
	added, err := hp.AddDevice(ctx, backend.DomID(d.ref().ID), dev)
	if err != nil {
		drv.log.Error("device hotplug failed", "domain", d.ref().Name, "device", dev.Kind(), "err", err)
	}
	return added, err
}

// removeDevice unplugs dev from d's guest, waiting for the guest to let
// it go as long as a detach may take. If the guest did not, the device
// stays, alias (the device's) gets DEVICE_REMOVAL_FAILED, and the error
// wraps backend.ErrTimedOut.
func (drv *Driver) removeDevice(ctx context.Context, d *domain, dev backend.Device, alias string) error {
	hp, err := drv.hotplug()
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, drv.deviceRemoveTimeout())
	defer cancel()
	err = hp.RemoveDevice(rctx, backend.DomID(d.ref().ID), dev)
	if err != nil {
		drv.log.Error("device unplug failed", "domain", d.ref().Name, "device", dev.Kind(), "alias", alias, "err", err)
	}
	if errors.Is(err, backend.ErrTimedOut) && alias != "" {
		drv.broker.Publish(events.NewDevice(events.IDDeviceRemovalFailed, d.ref(), alias))
	}
	return err
}

// removed reports a device gone from the live definition.
func (drv *Driver) removed(d *domain, alias string) {
	if alias != "" {
		drv.broker.Publish(events.NewDevice(events.IDDeviceRemoved, d.ref(), alias))
	}
}

// DetachDeviceAlias is virDomainDetachDeviceAlias (flags:
// VIR_DOMAIN_AFFECT_LIVE, _CONFIG), which libvirt's libxl driver lacks,
// as libvirt's QEMU driver serves it: the device of that alias, found in
// the live and/or the persistent definition (where only a user alias,
// "ua-...", is kept), is detached as virsh detach-device would detach it.
// Both are found before anything changes. The call returns once the guest
// let the device go, as a detach-device does; libvirt's QEMU driver
// returns once it asked, and both then send DEVICE_REMOVED.
func (drv *Driver) DetachDeviceAlias(ctx context.Context, dom Domain, alias string, flags uint32) error {
	if err := checkFlags(flags, modifyLive|modifyConfig, "libxlDomainDetachDeviceAlias"); err != nil {
		return err
	}
	d, err := drv.findNonDom0(dom)
	if err != nil {
		return err
	}
	if flags, err = modImpact(d.snap(), flags); err != nil {
		return err
	}
	var liveXML, configXML string
	if flags&modifyConfig != 0 {
		d.mu.Lock()
		pd := d.persistentDefLocked()
		d.mu.Unlock()
		if configXML, err = detachableByAlias(pd, alias); err != nil {
			return err
		}
	}
	if flags&modifyLive != 0 {
		if liveXML, err = detachableByAlias(d.snap().def.parsed(), alias); err != nil {
			return err
		}
		if err := drv.DetachDevice(ctx, dom, liveXML, modifyLive); err != nil {
			return err
		}
	}
	if configXML != "" {
		return drv.DetachDevice(ctx, dom, configXML, modifyConfig)
	}
	return nil
}

// detachableByAlias is the XML of def's device of that alias, which must
// be of a kind a detach takes.
func detachableByAlias(def *libvirtxml.Domain, alias string) (string, error) {
	kind, xml, ok, err := domxml.DeviceByAlias(def, alias)
	switch {
	case !ok:
		return "", domainErr(libvirt.ErrInternalError, "no device found with alias %s", alias)
	case err != nil:
		return "", err
	}
	switch kind {
	case "disk", "controller", "interface", "hostdev":
		return xml, nil
	}
	return "", libxlErr(libvirt.ErrConfigUnsupported, "device type '%s' cannot be detached", kind)
}
