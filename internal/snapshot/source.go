package snapshot

import (
	"encoding/xml"
	"sort"
	"strconv"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/virerr"
	"virtxend/internal/virstring"
)

// protocols are virStorageNetProtocol's names, and defaultPorts what
// virStorageSourceNetworkDefaultPort gives a TCP host without a port.
var (
	protocols    = []string{"none", "nbd", "rbd", "sheepdog", "gluster", "iscsi", "http", "https", "ftp", "ftps", "tftp", "ssh", "vxhs", "nfs"}
	defaultPorts = map[string]int{
		"http": 80, "https": 443, "ftp": 21, "ftps": 990, "tftp": 69, "sheepdog": 7000,
		"nbd": 10809, "ssh": 22, "iscsi": 3260, "gluster": 24007, "vxhs": 9999,
	}
	transports = []string{"tcp", "unix", "rdma", "fd"}
)

// parseSource is virDomainStorageSourceParse for a snapshot disk's
// <source> of storage type typ. libvirtxml reads the element; the checks
// and normalisations libvirt makes on what a snapshot can carry follow.
// What the disk parser reads beside the storage source (startupPolicy,
// index) a snapshot disk does not keep.
func parseSource(n *elem, typ string) (*libvirtxml.DomainDiskSource, error) {
	src := &libvirtxml.DomainDiskSource{}
	switch typ {
	case "file":
		src.File = &libvirtxml.DomainDiskSourceFile{}
	case "block":
		src.Block = &libvirtxml.DomainDiskSourceBlock{}
	case "network":
		src.Network = &libvirtxml.DomainDiskSourceNetwork{}
		if err := checkNetwork(n); err != nil {
			return nil, err
		}
	case "nvme":
		src.NVME = &libvirtxml.DomainDiskSourceNVME{}
	case "vhostuser":
		src.VHostUser = &libvirtxml.DomainDiskSourceVHostUser{}
	case "vhostvdpa":
		src.VHostVDPA = &libvirtxml.DomainDiskSourceVHostVDPA{}
	}
	if err := unmarshalSource(n.raw, src); err != nil {
		return nil, err
	}
	src.StartupPolicy, src.Index = "", 0
	if src.Network != nil {
		normalizeNetwork(src.Network, src)
	}
	return src, nil
}

func unmarshalSource(raw string, src *libvirtxml.DomainDiskSource) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = virerr.New(virerr.FromDomain, libvirt.ErrXMLError, "%v", r)
		}
	}()
	if uerr := xml.Unmarshal([]byte(raw), src); uerr != nil {
		return virerr.New(virerr.FromDomain, libvirt.ErrXMLError, "%s", uerr.Error())
	}
	return nil
}

// checkNetwork is virDomainDiskSourceNetworkParse's refusals, in its
// order, on the raw element (libvirtxml would read past them).
func checkNetwork(n *elem) error {
	proto, ok := n.attr("protocol")
	if !ok {
		return propMissing("protocol", n.name)
	}
	if index(protocols, proto) < 0 {
		return propInvalid("protocol", n.name, proto)
	}
	name, hasName := n.attr("name")
	if !hasName && proto != "nbd" {
		return domainErr(libvirt.ErrXMLError, "missing name for disk source")
	}
	if tls, ok := n.attr("tls"); ok && tls != "yes" && tls != "no" {
		return propInvalid("tls", n.name, tls)
	}
	if hasName && (proto == "gluster" || proto == "rbd") {
		if i := strings.IndexByte(name, '/'); i <= 0 {
			return domainErr(libvirt.ErrXMLError, "can't split path '%s' into pool name and image name", name)
		}
	}
	for _, h := range n.children("host") {
		if err := checkHost(h); err != nil {
			return err
		}
	}
	if proto == "ssh" {
		return checkSSH(n)
	}
	return nil
}

// checkHost is virDomainStorageNetworkParseHost without fd passing.
func checkHost(h *elem) error {
	tr := "tcp"
	if v, ok := h.attr("transport"); ok {
		if index(transports, v) < 0 {
			return propInvalid("transport", h.name, v)
		}
		tr = v
	}
	_, hasSocket := h.attr("socket")
	switch tr {
	case "unix":
		if !hasSocket {
			return domainErr(libvirt.ErrXMLError, "missing socket for unix transport")
		}
	case "tcp", "rdma":
		if hasSocket {
			return domainErr(libvirt.ErrXMLError, "transport '%s' does not support socket attribute", tr)
		}
		if p, ok := h.attr("port"); ok {
			v, ok := virstring.ToUIntP(p)
			if !ok {
				return virerr.New(virerr.FromNone, libvirt.ErrInvalidArg, "failed to parse port number '%s'", p)
			}
			if v > 65535 {
				return virerr.New(virerr.FromNone, libvirt.ErrInvalidArg, "port '%s' out of range", p)
			}
		}
		if _, ok := h.attr("name"); !ok {
			return domainErr(libvirt.ErrXMLError, "missing name for host")
		}
	case "fd":
		return domainErr(libvirt.ErrXMLError, "transport 'fd' is now allowed")
	}
	return nil
}

// checkSSH: an ssh source's known hosts file and identity.
func checkSSH(n *elem) error {
	if kh := n.child("knownHosts"); kh != nil {
		if _, ok := kh.attr("path"); !ok {
			return propMissing("path", kh.name)
		}
	}
	id := n.child("identity")
	if id == nil {
		return nil
	}
	if _, ok := id.attr("username"); !ok {
		return propMissing("username", id.name)
	}
	_, key := id.attr("keyfile")
	_, agent := id.attr("agentsock")
	if !key && !agent {
		return domainErr(libvirt.ErrXMLError, "element '%s' requires either 'keyfile' or 'agentsock' attribute", id.name)
	}
	return nil
}

// normalizeNetwork keeps what libvirt keeps of a network source for its
// protocol and gives TCP hosts their protocol's default port.
func normalizeNetwork(nw *libvirtxml.DomainDiskSourceNetwork, src *libvirtxml.DomainDiskSource) {
	p := nw.Protocol
	web := p == "http" || p == "https"
	if !web {
		nw.Query = ""
		src.Cookies = nil
	}
	if p != "https" && p != "ftps" {
		src.SSL = nil
	}
	if !web && p != "ftp" && p != "ftps" {
		src.Readahead, src.Timeout = nil, nil
	}
	if p != "nbd" {
		nw.Reconnect = nil
	}
	if p != "ssh" {
		nw.KnownHosts = nil
	}
	switch {
	case p == "nfs" && nw.Identity != nil:
		nw.Identity = &libvirtxml.DomainDiskSourceNetworkIdentity{User: nw.Identity.User, Group: nw.Identity.Group}
	case p == "ssh" && nw.Identity != nil:
		id := nw.Identity
		nw.Identity = &libvirtxml.DomainDiskSourceNetworkIdentity{UserName: id.UserName, Keyfile: id.Keyfile, AgentSock: id.AgentSock}
	default:
		nw.Identity = nil
	}
	for i := range nw.Hosts {
		normalizeHost(&nw.Hosts[i], p)
	}
}

func normalizeHost(h *libvirtxml.DomainDiskSourceHost, proto string) {
	switch h.Transport {
	case "unix":
		h.Name, h.Port = "", ""
		return
	case "", "tcp":
		h.Transport = ""
	}
	h.Socket = ""
	port, _ := virstring.ToUIntP(h.Port)
	if port == 0 && h.Transport == "" {
		port = uint32(defaultPorts[proto])
	}
	h.Port = ""
	if port != 0 {
		h.Port = strconv.FormatUint(uint64(port), 10)
	}
}

// Where virDomainDiskSourceFormat puts what libvirtxml writes in its own
// order.
var (
	sourceAttrOrder = []string{"file", "fdgroup", "dev", "dir", "protocol", "name", "query", "tls",
		"tlsHostname", "pool", "volume", "mode", "type", "managed", "namespace"}
	sourceKidOrder = []string{"host", "identity", "reconnect", "snapshot", "config", "initiator",
		"ssl", "cookies", "readahead", "timeout", "knownHosts", "address", "slices", "seclabel",
		"auth", "encryption", "reservations", "dataStore"}
	hostAttrOrder = []string{"name", "port", "transport", "socket"}
)

// formatSource is virDomainDiskSourceFormat as the snapshot formatter
// calls it: no startup policy, no index, no secrets (no cookies), and
// no security labels on a network source.
func formatSource(b *strings.Builder, d *Disk, depth int) error {
	if d.Source == nil {
		return nil
	}
	src := *d.Source
	src.StartupPolicy, src.Index, src.Cookies = "x", 0, nil // "x" makes libvirtxml write the element
	wrap := struct {
		XMLName xml.Name                     `xml:"disk"`
		Source  *libvirtxml.DomainDiskSource `xml:"source"`
	}{Source: &src}
	raw, err := xml.Marshal(wrap)
	if err != nil {
		return snapErr(libvirt.ErrInternalError, "cannot format disk snapshot source: %v", err)
	}
	root, err := parseElems(string(raw))
	if err != nil {
		return snapErr(libvirt.ErrInternalError, "cannot format disk snapshot source: %v", err)
	}
	s := root.child("source")
	if s == nil {
		return nil
	}
	s.dropAttrs("startupPolicy", "index")
	s.kids = filterKids(s.kids, func(k *elem) bool { return !(k.name == "seclabel" && d.Type == "network") })
	orderSource(s, d)
	if len(s.attrs) == 0 && len(s.kids) == 0 {
		return nil
	}
	writeElem(b, s, depth)
	return nil
}

func orderSource(s *elem, d *Disk) {
	kids := sourceKidOrder
	if d.Source.Network != nil && d.Source.Network.Protocol == "ssh" {
		// an ssh identity is written after the known hosts file
		kids = append([]string{"host", "reconnect", "snapshot", "config", "initiator", "ssl",
			"cookies", "readahead", "timeout", "knownHosts", "identity"}, kids[11:]...)
	}
	sortAttrs(s, sourceAttrOrder)
	sortKids(s, kids)
	for _, h := range s.children("host") {
		sortAttrs(h, hostAttrOrder)
	}
}

func (e *elem) dropAttrs(names ...string) {
	kept := e.attrs[:0]
	for _, a := range e.attrs {
		if index(names, qname(a.Name)) < 0 {
			kept = append(kept, a)
		}
	}
	e.attrs = kept
}

func filterKids(kids []*elem, keep func(*elem) bool) []*elem {
	var out []*elem
	for _, k := range kids {
		if keep(k) {
			out = append(out, k)
		}
	}
	return out
}

func rank(order []string, name string) int {
	if i := index(order, name); i >= 0 {
		return i
	}
	return len(order)
}

func sortAttrs(e *elem, order []string) {
	sort.SliceStable(e.attrs, func(i, j int) bool {
		return rank(order, qname(e.attrs[i].Name)) < rank(order, qname(e.attrs[j].Name))
	})
}

func sortKids(e *elem, order []string) {
	sort.SliceStable(e.kids, func(i, j int) bool {
		return rank(order, e.kids[i].name) < rank(order, e.kids[j].name)
	})
	e.mixed = nil
	for _, k := range e.kids {
		e.mixed = append(e.mixed, k)
	}
}
