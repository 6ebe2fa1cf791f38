package driver

import (
	"context"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/domxml"
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

// applyMetadata is virDomainDefSetMetadata on def (domxml does the XML).
func applyMetadata(def *libvirtxml.Domain, typ int32, metadata, key, uri *string) error {
	return domxml.SetMetadata(def, int(typ), metadata, deref(key), deref(uri))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// SetMetadata is virDomainSetMetadata (flags: VIR_DOMAIN_AFFECT_LIVE,
// _CONFIG). metadata, key and uri are the optional strings of the call;
// nil metadata removes. A METADATA_CHANGE event follows.
func (drv *Driver) SetMetadata(ctx context.Context, dom Domain, typ int32, metadata, key, uri *string, flags uint32) error {
	if err := metadataArgs("virDomainSetMetadata", typ, metadata, key, uri); err != nil {
		return err
	}
	live, config := uint32(libvirt.DomainAffectLive), uint32(libvirt.DomainAffectConfig)
	if err := checkFlags(flags, live|config, "libxlDomainSetMetadata"); err != nil {
		return err
	}
	d, err := drv.findForJob(ctx, dom)
	if err != nil {
		return err
	}
	defer drv.endJob(d)
	s := d.snap()
	if flags, err = modImpact(s, flags); err != nil {
		return err
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
	drv.broker.Publish(events.NewMetadataChange(d.ref(), typ, deref(uri)))
	return nil
}

// GetMetadata is virDomainGetMetadata (flags: VIR_DOMAIN_AFFECT_LIVE or
// _CONFIG, not both).
func (drv *Driver) GetMetadata(ctx context.Context, dom Domain, typ int32, uri *string, flags uint32) (string, error) {
	if err := metadataArgs("virDomainGetMetadata", typ, nil, nil, uri); err != nil {
		return "", err
	}
	d, err := drv.find(dom)
	if err != nil {
		return "", err
	}
	live, config := uint32(libvirt.DomainAffectLive), uint32(libvirt.DomainAffectConfig)
	if extra := flags &^ (live | config); extra != 0 {
		return "", errUnsupportedFlags(virerr.FromDomain, extra, "virDomainObjGetMetadata")
	}
	def, err := drv.oneDef(d, flags)
	if err != nil {
		return "", err
	}
	return domxml.GetMetadata(def, int(typ), deref(uri))
}
