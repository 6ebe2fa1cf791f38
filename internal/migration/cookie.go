// Package migration is libvirt's Xen migration protocol as data: the
// migration cookie the libxl driver exchanges between hosts
// (<libxl-migration>, libxlMigrationBakeCookie/EatCookie in
// src/libxl/libxl_migration.c) and the flags, parameters and port range
// its migration calls accept (libxl_migration.h, libxl_conf.h). It knows
// no domain and no wire; the driver uses it at each phase.
package migration

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/domxml"
	"virtxend/internal/virerr"
	"virtxend/internal/virstring"
)

// StreamVersion is LIBXL_SAVE_VERSION, the libxl stream version a source
// sends (libxlMigrationCookieNew).
const StreamVersion = 2

// LegacyStreamVersion is what a destination assumes when the source sent
// no cookie: a source without cookie support sends the V1 stream.
const LegacyStreamVersion = 1

// Cookie is libvirt's libxlMigrationCookie: the guest's name and UUID,
// the source's hostname, and the libxl stream version it sends. (libvirt's
// Xen cookie has no host UUID, unlike its QEMU driver's.)
type Cookie struct {
	Name          string
	UUID          backend.UUID
	Hostname      string
	StreamVersion uint32
}

// Encode is libxlMigrationBakeCookie: the XML libvirt writes, with its
// two-space indent and escaping, and the terminating NUL it counts in the
// cookie's length (strlen + 1), which a libvirt destination requires.
func (c Cookie) Encode() []byte {
	var b bytes.Buffer
	b.WriteString("<libxl-migration>\n")
	fmt.Fprintf(&b, "  <name>%s</name>\n", virstring.EscapeString(c.Name))
	fmt.Fprintf(&b, "  <uuid>%s</uuid>\n", c.UUID)
	fmt.Fprintf(&b, "  <hostname>%s</hostname>\n", virstring.EscapeString(c.Hostname))
	fmt.Fprintf(&b, "  <migration-stream-version>%d</migration-stream-version>\n", c.StreamVersion)
	b.WriteString("</libxl-migration>\n")
	b.WriteByte(0)
	return b.Bytes()
}

func cookieErr(format string) error {
	return virerr.New(virerr.FromLibxl, libvirt.ErrInternalError, "%s", format)
}

// Decode is libxlMigrationEatCookie. No cookie at all means a source
// without cookie support, hence the legacy stream; otherwise the cookie
// must end in its NUL and give a name, a UUID and a stream version, with
// libvirt's errors. The hostname, which libvirt does not read, is kept
// when present.
func Decode(cookie []byte) (Cookie, error) {
	if len(cookie) == 0 {
		return Cookie{StreamVersion: LegacyStreamVersion}, nil
	}
	if cookie[len(cookie)-1] != 0 {
		return Cookie{}, cookieErr("Migration cookie was not NULL terminated")
	}
	// libvirt reads the cookie as a C string: it ends at the first NUL.
	doc := string(cookie[:bytes.IndexByte(cookie, 0)])
	if _, err := domxml.CheckWellFormed(doc, "(libxl_migration_cookie)", virerr.FromLibxl); err != nil {
		return Cookie{}, err
	}
	f, err := firstChildren(doc)
	if err != nil {
		return Cookie{}, virerr.Wrap(err, virerr.FromLibxl, libvirt.ErrXMLError, "failed to parse xml document '%s'", "(libxl_migration_cookie)")
	}
	return fromFields(f)
}

// fromFields checks the fields in libvirt's order.
func fromFields(f map[string]string) (Cookie, error) {
	c := Cookie{Name: f["name"], Hostname: f["hostname"]}
	if c.Name == "" {
		return Cookie{}, cookieErr("missing name element in migration data")
	}
	if f["uuid"] == "" {
		return Cookie{}, cookieErr("missing uuid element in migration data")
	}
	u, ok := virstring.ParseUUID(f["uuid"])
	if !ok {
		return Cookie{}, cookieErr("malformed uuid element")
	}
	c.UUID = u
	v, ok := virstring.ToUIntP(f["migration-stream-version"])
	if !ok {
		return Cookie{}, cookieErr("missing Xen migration stream version")
	}
	c.StreamVersion = v
	return c, nil
}

// cookieFields are the elements read, by XPath string(./NAME[1]).
var cookieFields = map[string]bool{"name": true, "uuid": true, "hostname": true, "migration-stream-version": true}

// firstChildren is string(./NAME[1]) for each of cookieFields under the
// root, whatever the root's name (libvirt does not check it): the text
// of the first such child and all its descendants. The document is
// already known to be well formed.
func firstChildren(doc string) (map[string]string, error) {
	d := xml.NewDecoder(strings.NewReader(doc))
	fields := map[string]string{}
	depth := 0
	field := "" // the child being read, "" when none
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return fields, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if _, seen := fields[t.Name.Local]; depth == 2 && t.Name.Space == "" && cookieFields[t.Name.Local] && !seen {
				field = t.Name.Local
				fields[field] = ""
			}
		case xml.EndElement:
			if depth == 2 {
				field = ""
			}
			depth--
		case xml.CharData:
			if field != "" {
				fields[field] += string(t)
			}
		}
	}
}
