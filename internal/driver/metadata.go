package driver

import (
	"context"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/events"
	"virtxend/internal/virerr"
)

// metadataArgs are the public API's argument checks (virDomainSetMetadata,
// virDomainGetMetadata in libvirt-domain.c): title and description take no
// uri or key, an element needs a uri and, when set, a key.
func metadataArgs(fn string, typ int32, metadata, key, uri *string) error {
	mustBeNil := func(name string) error {
		return domainErr(libvirt.ErrInvalidArg, "%s in %s must be NULL", name, fn)
	}
	mustNotBeNil := func(name string) error {
		return domainErr(libvirt.ErrInvalidArg, "%s in %s must not be NULL", name, fn)
	}
	switch libvirt.DomainMetadataType(typ) {
	case libvirt.DomainMetadataTitle, libvirt.DomainMetadataDescription:
		if typ == int32(libvirt.DomainMetadataTitle) && metadata != nil && strings.Contains(*metadata, "\n") {
			return domainErr(libvirt.ErrInvalidArg, "metadata title can't contain newlines")
		}
		if uri != nil {
			return mustBeNil("uri")
		}
		if key != nil {
			return mustBeNil("key")
		}
	case libvirt.DomainMetadataElement:
		if uri == nil {
			return mustNotBeNil("uri")
		}
		if metadata != nil && key == nil {
			return mustNotBeNil("key")
		}
	}
	return nil
}

func errMetadataType(typ int32) error {
	return domainErr(libvirt.ErrInvalidArg, "unknown metadata type '%d'", typ)
}

// applyMetadata is virDomainDefSetMetadata on a copy of def.
func applyMetadata(def *libvirtxml.Domain, typ int32, metadata, key, uri *string) error {
	val := ""
	if metadata != nil {
		val = *metadata
	}
	switch libvirt.DomainMetadataType(typ) {
	case libvirt.DomainMetadataDescription:
		def.Description = val
	case libvirt.DomainMetadataTitle:
		def.Title = val
	case libvirt.DomainMetadataElement:
		inner := ""
		if def.Metadata != nil {
			inner = def.Metadata.XML
		}
		elem := ""
		if metadata != nil {
			if err := parseOneElement(val); err != nil {
				return domainErr(libvirt.ErrXMLError, "(metadata_xml): %v", err)
			}
			if !ncName.MatchString(*key) {
				return domainErr(libvirt.ErrInternalError, "failed to validate prefix for a new XML namespace")
			}
			elem = val
		}
		k := ""
		if key != nil {
			k = *key
		}
		out, err := metadataSet(inner, *uri, k, elem)
		if err != nil {
			return domainErr(libvirt.ErrXMLError, "(metadata_xml): %v", err)
		}
		def.Metadata = nil
		if out != "" {
			def.Metadata = &libvirtxml.DomainMetadata{XML: out}
		}
	default:
		return errMetadataType(typ)
	}
	return nil
}

// SetMetadata is virDomainSetMetadata (flags: VIR_DOMAIN_AFFECT_LIVE,
// _CONFIG). metadata, key and uri are the optional strings of the call;
// nil metadata removes. A METADATA_CHANGE event follows.
func (drv *Driver) SetMetadata(ctx context.Context, uuid backend.UUID, typ int32, metadata, key, uri *string, flags uint32) error {
	if err := metadataArgs("virDomainSetMetadata", typ, metadata, key, uri); err != nil {
		return err
	}
	live, config := uint32(libvirt.DomainAffectLive), uint32(libvirt.DomainAffectConfig)
	if err := checkFlags(flags, live|config, "libxlDomainSetMetadata"); err != nil {
		return err
	}
	d, err := drv.findForJob(ctx, uuid)
	if err != nil {
		return err
	}
	defer drv.endJob(d)
	s := d.snap()
	if flags, err = modImpact(s, flags); err != nil {
		return err
	}
	if typ < 0 || typ > int32(libvirt.DomainMetadataElement) {
		return errMetadataType(typ)
	}
	if flags&live != 0 {
		var applyErr error
		drv.editLive(d, func(def *libvirtxml.Domain) { applyErr = applyMetadata(def, typ, metadata, key, uri) })
		if applyErr != nil {
			return applyErr
		}
		if err := drv.saveStatusIfActive(d); err != nil {
			return err
		}
	}
	if flags&config != 0 {
		var applyErr error
		err := drv.editPersistent(d, func(def *libvirtxml.Domain) { applyErr = applyMetadata(def, typ, metadata, key, uri) })
		if applyErr != nil {
			return applyErr
		}
		if err != nil {
			return err
		}
	}
	ns := ""
	if uri != nil {
		ns = *uri
	}
	drv.broker.Publish(events.NewMetadataChange(d.ref(), typ, ns))
	return nil
}

// GetMetadata is virDomainGetMetadata (flags: VIR_DOMAIN_AFFECT_LIVE or
// _CONFIG, not both).
func (drv *Driver) GetMetadata(ctx context.Context, uuid backend.UUID, typ int32, uri *string, flags uint32) (string, error) {
	if err := metadataArgs("virDomainGetMetadata", typ, nil, nil, uri); err != nil {
		return "", err
	}
	d, err := drv.find(uuid)
	if err != nil {
		return "", err
	}
	live, config := uint32(libvirt.DomainAffectLive), uint32(libvirt.DomainAffectConfig)
	if extra := flags &^ (live | config); extra != 0 {
		return "", errUnsupportedFlags(virerr.FromDomain, extra, "virDomainObjGetMetadata")
	}
	if typ < 0 || typ > int32(libvirt.DomainMetadataElement) {
		return "", errMetadataType(typ)
	}
	if flags&live != 0 && flags&config != 0 {
		return "", domainErr(libvirt.ErrInvalidArg, "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive")
	}
	d.mu.Lock()
	s := snapshot{ref: d.refLocked(), def: d.def, persistent: d.persistent}
	pd := d.persistentDefLocked()
	d.mu.Unlock()
	if flags, err = modImpact(s, flags); err != nil {
		return "", err
	}
	def := s.def
	if flags&config != 0 && pd != nil {
		def = pd
	}
	var val string
	switch libvirt.DomainMetadataType(typ) {
	case libvirt.DomainMetadataDescription:
		val = def.Description
	case libvirt.DomainMetadataTitle:
		val = def.Title
	case libvirt.DomainMetadataElement:
		if def.Metadata != nil {
			if val, err = metadataFind(def.Metadata.XML, *uri); err != nil {
				return "", domainErr(libvirt.ErrXMLError, "%v", err)
			}
		}
	}
	if val == "" {
		return "", errNoMetadata()
	}
	return val, nil
}
