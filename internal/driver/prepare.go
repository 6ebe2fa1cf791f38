package driver

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/domxml"
	"virtxend/internal/virerr"
)

// Devices that name something of libvirt's other drivers are resolved in
// two steps. prepareDevices asks those drivers, at start, before the
// translation (libxlDomainStartPrepare): the network ports go with the
// domain, the volume paths to the translation. translationDef then gives
// libxlconf the definition as libvirt's libxl code sees it through its
// virDomainNetGetActual* and virStorageSourceGetActualType accessors, so
// the translation stays pure and unchanged: an interface on a network is
// the bridge (or PCI device) its port gave it, a volume disk the file or
// device it resolved to. Secrets are read during the translation itself,
// through libxlconf.Host.SecretValue, as libxlMakeNetworkDiskSrc reads
// them. A device hotplug resolves the one device it adds with the same
// per-device steps: allocateNetPort (then the port id into the interface,
// the port into a new copy of d.netPorts) and domxml.ActualInterface for an
// interface, translateVolume and resolvedDisk for a disk; a detach releases
// the interface's port with releaseNetPort.

// prepareDevices resolves d's live definition: its interfaces on networks
// get ports (recorded in a new live copy and in d), its volume disks paths
// (returned by disk index). On failure nothing is left allocated.
func (drv *Driver) prepareDevices(ctx context.Context, d *domain) (map[int]volumeSource, error) {
	def := d.snap().def.parsed()
	if !namesLibvirtObjects(def) {
		return nil, nil
	}
	live := domxml.Copy(def)
	ports, err := drv.allocateNetPorts(ctx, live)
	if err != nil {
		return nil, err
	}
	vols, err := drv.translateVolumes(ctx, live)
	if err != nil {
		drv.releaseNetPorts(live, ports)
		return nil, err
	}
	d.mu.Lock()
	d.def, d.netPorts = liveDef(live), ports
	d.mu.Unlock()
	return vols, nil
}

// namesLibvirtObjects reports whether def has an interface on a network
// or a volume disk.
func namesLibvirtObjects(def *libvirtxml.Domain) bool {
	if def.Devices == nil {
		return false
	}
	for _, ifc := range def.Devices.Interfaces {
		if ifc.Source != nil && ifc.Source.Network != nil {
			return true
		}
	}
	for _, disk := range def.Devices.Disks {
		if disk.Source != nil && disk.Source.Volume != nil {
			return true
		}
	}
	return false
}

// translationDef is def as libxl's translation must see it, and the
// bridges of the networks whose ports plug into the network's own bridge
// (for libxlconf.Host.NetworkBridge, as libxlMakeNic asks the network for
// its bridge when the actual type stays "network"). An interface whose
// port gives a macvtap device stays as configured, and the translation
// refuses it with libvirt's error for a network interface. def is not
// changed; with nothing to resolve it is returned as it is.
func translationDef(def *libvirtxml.Domain, ports domxml.Ports, vols map[int]volumeSource) (*libvirtxml.Domain, map[string]string, error) {
	if len(ports) == 0 && len(vols) == 0 {
		return def, nil, nil
	}
	c := domxml.Copy(def)
	if c == nil || c.Devices == nil {
		return nil, nil, libxlErr(libvirt.ErrInternalError, "cannot copy the definition of '%s'", def.Name)
	}
	bridges := map[string]string{}
	for i := range c.Devices.Interfaces {
		ifc := &c.Devices.Interfaces[i]
		port := ports.PortOf(ifc)
		if port == nil || port.Plug == nil || port.Plug.Direct != nil {
			continue
		}
		if port.Plug.Network != nil {
			bridges[ifc.Source.Network.Network] = port.Plug.Network.Bridge
		}
		*ifc = domxml.ActualInterface(*ifc, port)
	}
	for i, v := range vols {
		if i < len(c.Devices.Disks) {
			c.Devices.Disks[i] = resolvedDisk(c.Devices.Disks[i], v)
		}
	}
	return c, bridges, nil
}

// networkBridge is libxlconf.Host.NetworkBridge over the bridges
// translationDef found: any other network interface is one libxl cannot
// plug (libxlMakeNic names the interface's own type).
func networkBridge(bridges map[string]string) func(string) (string, error) {
	return func(network string) (string, error) {
		if br, ok := bridges[network]; ok {
			return br, nil
		}
		return "", libxlErr(libvirt.ErrConfigUnsupported, "unsupported interface type network")
	}
}

// secretValue is libxlconf.Host.SecretValue: virSecretGetSecretString with
// usage type ceph, through the secret driver.
func (drv *Driver) secretValue(ctx context.Context) func(*libvirtxml.DomainDiskAuth) ([]byte, error) {
	return func(auth *libvirtxml.DomainDiskAuth) ([]byte, error) {
		sd, err := drv.secrets()
		if err != nil {
			return nil, err
		}
		ref := auth.Secret
		if ref == nil {
			ref = &libvirtxml.DomainDiskSecret{}
		}
		var sec libvirt.Secret
		var lookedUp backend.UUID
		if ref.UUID != "" {
			if lookedUp, err = backend.ParseUUID(ref.UUID); err != nil {
				return nil, domainErr(libvirt.ErrXMLError, "malformed secret uuid '%s'", ref.UUID)
			}
			sec, err = sd.SecretLookupByUUID(ctx, libvirt.UUID(lookedUp))
		} else {
			sec, err = sd.SecretLookupByUsage(ctx, int32(libvirt.SecretUsageTypeCeph), ref.Usage)
		}
		if err != nil {
			return nil, err
		}
		if t := libvirt.SecretUsageType(sec.UsageType); t != libvirt.SecretUsageTypeNone && t != libvirt.SecretUsageTypeCeph {
			return nil, virerr.New(virerr.FromNone, libvirt.ErrInvalidArg,
				"secret with uuid %s is of type '%s' not expected '%s' type",
				lookedUp, secretUsageName(t), "ceph")
		}
		return sd.SecretGetValue(ctx, sec, 0)
	}
}

// secretUsageNames are virSecretUsageType's names.
var secretUsageNames = []string{"none", "volume", "ceph", "iscsi", "tls", "vtpm"}

func secretUsageName(t libvirt.SecretUsageType) string {
	if int(t) >= 0 && int(t) < len(secretUsageNames) {
		return secretUsageNames[t]
	}
	return "unknown"
}
