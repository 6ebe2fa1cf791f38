package snapshot

import (
	"fmt"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/domxml"
	"virtxend/internal/virerr"
)

// schemaFile is the schema libvirt validates a snapshot against, named in
// its error message.
const schemaFile = "/usr/share/libvirt/schemas/domainsnapshot.rng"

// validateSchema is ParseValidate's check, domainsnapshot.rng written
// out: which elements and attributes a snapshot may have and the values
// of the enumerated ones. The nested domains go to domxml's schema check.
// Messages are libxml2's for the common cases ("Element X has extra
// content: Y", "Invalid attribute A for element X"); libxml2's wording of
// a failed choice is less predictable and is given the same way.
func validateSchema(root *elem) error {
	if msg := checkRoot(root); msg != "" {
		return schemaError(msg)
	}
	for _, name := range []string{"domain", "inactiveDomain"} {
		n := root.child(name)
		if n == nil || (name == "domain" && uuidOnly(n)) {
			continue
		}
		raw := "<domain" + strings.TrimPrefix(n.raw, "<"+n.name)
		if name != "domain" {
			if i := strings.LastIndex(raw, "</"); i > 0 && !strings.HasSuffix(raw, "/>") {
				raw = raw[:i] + "</domain>"
			}
		}
		if err := domxml.ValidateSchema(raw); err != nil {
			return err
		}
	}
	return nil
}

func schemaError(msg string) error {
	return virerr.New(virerr.FromXML, libvirt.ErrXMLInvalidSchema,
		"Unable to validate doc against %s\n%s\n", schemaFile, msg)
}

// uuidOnly: the old form <domain><uuid>...</uuid></domain>.
func uuidOnly(n *elem) bool {
	return len(n.attrs) == 0 && len(n.kids) == 1 && n.kids[0].name == "uuid"
}

// rootKids are the children the schema allows, each at most once.
var rootKids = map[string]func(*elem) string{
	"name": textOnly, "description": textOnly, "creationTime": textOnly,
	"state":          checkState,
	"memory":         checkMemoryElem,
	"disks":          checkDiskList,
	"revertDisks":    checkDiskList,
	"active":         checkActive,
	"domain":         func(*elem) string { return "" },
	"inactiveDomain": func(*elem) string { return "" },
	"parent":         checkParent,
	"cookie":         func(*elem) string { return "" },
}

func checkRoot(root *elem) string {
	if msg := onlyAttrs(root); msg != "" {
		return msg
	}
	seen := map[string]bool{}
	for _, k := range root.kids {
		check, ok := rootKids[k.name]
		if !ok || seen[k.name] {
			return extra(root, k)
		}
		seen[k.name] = true
		if msg := check(k); msg != "" {
			return msg
		}
	}
	return ""
}

func extra(parent, k *elem) string {
	return fmt.Sprintf("Element %s has extra content: %s", parent.name, k.name)
}

// onlyAttrs refuses any attribute but the allowed ones.
func onlyAttrs(e *elem, allowed ...string) string {
	for _, a := range e.attrs {
		if q := qname(a.Name); index(allowed, q) < 0 {
			return fmt.Sprintf("Invalid attribute %s for element %s", q, e.name)
		}
	}
	return ""
}

func textOnly(e *elem) string {
	if msg := onlyAttrs(e); msg != "" {
		return msg
	}
	if len(e.kids) > 0 {
		return extra(e, e.kids[0])
	}
	return ""
}

func badValue(e *elem) string {
	return fmt.Sprintf("Element %s failed to validate content", e.name)
}

func checkState(e *elem) string {
	if msg := textOnly(e); msg != "" {
		return msg
	}
	switch e.str() {
	case "running", "blocked", "paused", "shutdown", "shutoff", "crashed", "disk-snapshot":
		return ""
	}
	return badValue(e)
}

func checkActive(e *elem) string {
	if msg := textOnly(e); msg != "" {
		return msg
	}
	if v := e.str(); v != "0" && v != "1" {
		return badValue(e)
	}
	return ""
}

func checkParent(e *elem) string {
	if msg := onlyAttrs(e); msg != "" {
		return msg
	}
	if len(e.kids) != 1 || e.kids[0].name != "name" {
		if len(e.kids) > 1 {
			return extra(e, e.kids[1])
		}
		return badValue(e)
	}
	return textOnly(e.kids[0])
}

// checkMemoryElem: no/internal without a file, or external (or nothing)
// with an absolute one.
func checkMemoryElem(e *elem) string {
	if msg := onlyAttrs(e, "snapshot", "file"); msg != "" {
		return msg
	}
	if len(e.kids) > 0 {
		return extra(e, e.kids[0])
	}
	snap, hasSnap := e.attr("snapshot")
	file, hasFile := e.attr("file")
	switch {
	case hasSnap && (snap == "no" || snap == "internal") && !hasFile:
	case (!hasSnap || snap == "external") && hasFile && strings.HasPrefix(file, "/"):
	default:
		return badValue(e)
	}
	return ""
}

func checkDiskList(e *elem) string {
	if msg := onlyAttrs(e); msg != "" {
		return msg
	}
	for _, k := range e.kids {
		if k.name != "disk" {
			return extra(e, k)
		}
		if msg := checkDiskElem(k); msg != "" {
			return msg
		}
	}
	return ""
}

// checkDiskElem is the schema's disksnapshot: a name, then either no
// or internal or manual with nothing more, or an external disk of type
// file, block or network with its driver, source and
// snapshotDeleteInProgress.
func checkDiskElem(e *elem) string {
	if msg := onlyAttrs(e, "name", "snapshot", "type"); msg != "" {
		return msg
	}
	if _, ok := e.attr("name"); !ok {
		return badValue(e)
	}
	snap, hasSnap := e.attr("snapshot")
	typ, hasType := e.attr("type")
	if hasSnap && snap != "external" {
		if (snap != "no" && snap != "internal" && snap != "manual") || hasType || len(e.kids) > 0 {
			return badValue(e)
		}
		return ""
	}
	if hasType && typ != "file" && typ != "block" && typ != "network" {
		return badValue(e)
	}
	seen := map[string]bool{}
	for _, k := range e.kids {
		switch {
		case seen[k.name]:
			return extra(e, k)
		case k.name == "driver", k.name == "source", k.name == "snapshotDeleteInProgress":
			seen[k.name] = true
		default:
			return extra(e, k)
		}
	}
	if drv := e.child("driver"); drv != nil {
		if msg := onlyAttrs(drv, "type"); msg != "" {
			return msg
		}
	}
	return ""
}
