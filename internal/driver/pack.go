package driver

import (
	"bytes"
	"compress/flate"
	"io"
	"strings"
	"sync"
	"time"
	"weak"
)

// A saved definition's text is kept deflated against packDict, a typical
// config of a Xen guest: the texts of most guests differ from it in a few
// values only, so 700 bytes of text keep as about 70 (10,000 small guests
// defined then hold about 1 KiB each in all, not 2). Inflating one costs
// a few microseconds, deflating one some tens, once per define, a moment
// after it (packLater).
const packDict = `<domain type='xen'>
  <name>guest</name>
  <uuid>00000000-0000-0000-0000-000000000000</uuid>
  <memory unit='KiB'>1048576</memory>
  <currentMemory unit='KiB'>1048576</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='x86_64' machine='xenfv'>hvm</type>
    <loader type='rom'>/usr/lib/xen/boot/hvmloader</loader>
    <boot dev='hd'/>
  </os>
  <features>
    <acpi/>
    <apic/>
    <pae/>
  </features>
  <cpu mode='host-passthrough'>
  </cpu>
  <clock offset='variable' adjustment='0' basis='utc'/>
  <devices>
    <emulator>/usr/lib/xen/bin/qemu-system-i386</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/guest.qcow2'/>
      <target dev='xvda' bus='xen'/>
    </disk>
    <interface type='bridge'>
      <mac address='00:16:3e:00:00:00'/>
      <source bridge='xenbr0'/>
      <script path='vif-bridge'/>
      <model type='netfront'/>
    </interface>
    <serial type='pty'>
      <target port='0'/>
    </serial>
    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'>
      <listen type='address' address='127.0.0.1'/>
    </graphics>
    <video>
      <model type='cirrus' vram='8192' heads='1' primary='yes'/>
    </video>
  </devices>
</domain>
<domain type='xen'>
  <name>guest</name>
  <uuid>00000000-0000-0000-0000-000000000000</uuid>
  <memory unit='KiB'>131072</memory>
  <currentMemory unit='KiB'>131072</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='x86_64' machine='xenpv'>linux</type>
    <kernel>/boot/vmlinuz</kernel>
  </os>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <controller type='xenbus' index='0'/>
    <console type='pty'>
      <target type='xen' port='0'/>
    </console>
    <input type='mouse' bus='xen'/>
    <input type='keyboard' bus='xen'/>
    <memballoon model='xen'/>
  </devices>
</domain>
`

// The deflater's state is most of a megabyte: one is reused, not made
// for each text.
var packers = sync.Pool{New: func() any {
	w, _ := flate.NewWriterDict(nil, flate.DefaultCompression, packDictBytes)
	return w
}}

var packDictBytes = []byte(packDict)

var unpackers = sync.Pool{New: func() any { return flate.NewReader(nil) }}

// pack deflates a saved definition's text.
func pack(text string) string {
	w := packers.Get().(*flate.Writer)
	defer packers.Put(w)
	var b bytes.Buffer
	w.Reset(&b)
	io.WriteString(w, text)
	w.Close()
	return b.String()
}

// unpack inflates what pack made.
func unpack(packed string) (string, error) {
	r := unpackers.Get().(io.ReadCloser)
	defer unpackers.Put(r)
	if err := r.(flate.Resetter).Reset(strings.NewReader(packed), packDictBytes); err != nil {
		return "", err
	}
	// Not io.Copy, whose 32 KiB buffer would be most of a dumpxml's cost.
	var b bytes.Buffer
	b.Grow(16 * len(packed))
	if _, err := b.ReadFrom(r); err != nil {
		return "", err
	}
	return b.String(), nil
}

// packDelay is how long a newly saved text is kept as it is before it is
// deflated. A definition that nothing holds by then (undefined, or
// replaced by the next define, as tools define, edit and define again) is
// never deflated: a cycle of define and undefine then costs no deflate, a
// tenth of its CPU before, and a definition that stays costs its plain
// text, a few hundred bytes more, for that long.
const packDelay = time.Second

// pendingPacks are the saved texts waiting for packDelay to pass.
type pendingPacks struct {
	mu    sync.Mutex
	defs  []weak.Pointer[definition]
	armed bool
}

// packLater deflates x's text once packDelay has passed, if x is still
// held then. It holds x weakly: the collector, which runs many times a
// second while defines come that fast, tells what is no longer held.
func (drv *Driver) packLater(x *definition) {
	p := &drv.packs
	p.mu.Lock()
	defer p.mu.Unlock()
	p.defs = append(p.defs, weak.Make(x))
	if !p.armed {
		p.armed = true
		time.AfterFunc(packDelay, drv.packPending)
	}
}

// packPending deflates the texts packLater was given that are still held.
func (drv *Driver) packPending() {
	p := &drv.packs
	p.mu.Lock()
	defs := p.defs
	p.defs, p.armed = nil, false
	p.mu.Unlock()
	for _, w := range defs {
		if x := w.Value(); x != nil {
			x.pack()
		}
	}
}
