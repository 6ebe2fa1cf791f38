package cpumodel

import (
	"fmt"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// schemaFile is what libvirt validates a CPU definition against, named in
// its error message.
const schemaFile = "/usr/share/libvirt/schemas/cpu.rng"

// The elements and attributes cpu.rng allows at the top of a host CPU
// (hostcpu) and of a guest CPU (guestcpu), by element name.
var (
	hostSchema = map[string][]string{
		"cpu": {}, "arch": {}, "features": {}, "model": {}, "vendor": {},
		"microcode": {"version"}, "signature": {"family", "model", "stepping"},
		"counter": {"name", "frequency", "scaling"}, "topology": {"sockets", "dies", "clusters", "cores", "threads"},
		"maxphysaddr": {"mode", "bits", "limit"}, "feature": {"name"}, "pages": {"unit", "size"},
	}
	guestSchema = map[string][]string{
		"cpu":   {"mode", "match", "check", "deprecated_features", "migratable"},
		"model": {"fallback", "vendor_id"}, "vendor": {},
		"topology": {"sockets", "dies", "clusters", "cores", "threads"},
		"feature":  {"policy", "name"}, "numa": nil, "cache": {"level", "mode"},
		"maxphysaddr": {"mode", "bits", "limit"},
	}
)

// validateSchema is the check of VIR_CONNECT_COMPARE_CPU_VALIDATE_XML: an
// element or attribute cpu.rng does not allow where it stands is refused
// as libxml2's validator words it. Only the <cpu> element and its children
// are checked (a guest's <numa> is taken whole); the values are left to
// the parser.
func validateSchema(e *xmlElem) error {
	schema := guestSchema
	if e.first("arch") != nil {
		schema = hostSchema
	}
	if msg := checkElem(e, schema, "cpu"); msg != "" {
		return invalidSchema(msg)
	}
	for i := range e.Kids {
		k := &e.Kids[i]
		allowed, ok := schema[k.XMLName.Local]
		if !ok || k.XMLName.Local == "cpu" || k.XMLName.Space != "" {
			return invalidSchema(fmt.Sprintf("Element cpu has extra content: %s", k.XMLName.Local))
		}
		if allowed == nil {
			continue
		}
		if msg := checkElem(k, schema, k.XMLName.Local); msg != "" {
			return invalidSchema(msg)
		}
	}
	return nil
}

func checkElem(e *xmlElem, schema map[string][]string, name string) string {
	for _, a := range e.Attrs {
		if a.Name.Space != "" || indexOf(schema[name], a.Name.Local) < 0 {
			return fmt.Sprintf("Invalid attribute %s for element %s", a.Name.Local, name)
		}
	}
	return ""
}

func invalidSchema(msg string) error {
	return virerr.New(virerr.FromXML, libvirt.ErrXMLInvalidSchema, "Unable to validate doc against %s\n%s\n", schemaFile, msg)
}
