package drivertests

import (
	"encoding/json"
	"strings"
	"testing"

	"virtxend/test/daemontest"
)

// defineOracle defines each case on libvirtd's test driver (beside the
// daemon: the same domain_conf.c parser as libvirt's Xen driver) and on
// the daemon, through libvirt-python, and prints a line per case (a JSON
// object of names and bodies): its name, then each side's answer, "OK" or
// "ERR domain code message", tab-separated.
const defineOracle = `
import json, sys, libvirt
libvirt.registerErrorHandler(lambda *a: None, None)
lv, vx = libvirt.open(sys.argv[2]), libvirt.open(sys.argv[1])
def answer(conn, xml):
    try:
        conn.defineXML(xml).undefine()
        return "OK"
    except libvirt.libvirtError as e:
        return "ERR %d %d %s" % (e.get_error_domain(), e.get_error_code(), e.get_error_message())
for name, body in sorted(json.loads(sys.argv[3]).items()):
    xml = "<domain type='%s'><name>%s</name>" + body + "</domain>"
    os = "<os><type arch='x86_64'>xen</type>%s</os>"
    print(name, answer(lv, xml.replace("<os/>", os % "") % ("test", "d-" + name)),
          answer(vx, xml.replace("<os/>", os % "<kernel>/boot/vmlinuz</kernel>") % ("xen", "d-" + name)), sep="\t")
`

// TestDefineAnswersAsLibvirtd: unusual and wrong definitions are taken or
// refused, with the same error, as libvirt's own parser does. "<os/>" in a
// body stands for the guest's OS (a kernel for ours, which boots PV). Left
// out, as they differ on purpose (internal/domxml/precheck.go): a '+' or
// '-' before a vCPU count, and <maxMemory> with slots, which libvirt's
// test driver takes and its Xen driver refuses.
func TestDefineAnswersAsLibvirtd(t *testing.T) {
	d, l := daemontest.StartWithLibvirtd(t)
	const mem, os = "<memory>131072</memory>", "<os/>"
	cases := map[string]string{
		"vcpu-blank-before":  mem + "<vcpu> 2</vcpu>" + os,
		"vcpu-blank-after":   mem + "<vcpu>2 </vcpu>" + os,
		"vcpu-text":          mem + "<vcpu>two</vcpu>" + os,
		"vcpu-current-text":  mem + "<vcpu current='x'>2</vcpu>" + os,
		"vcpu-current-more":  mem + "<vcpu current='4'>2</vcpu>" + os,
		"vcpu-placement":     mem + "<vcpu placement='sideways'>1</vcpu>" + os,
		"memory-units":       "<memory unit='mib'>64</memory><currentMemory unit='Byte'>33554432</currentMemory>" + os,
		"memory-decimal":     "<memory unit='mB'>64</memory>" + os,
		"memory-blank-after": "<memory>65536 </memory>" + os,
		"memory-empty":       "<memory></memory>" + os,
		"memory-unit":        "<memory unit='parsecs'>1</memory>" + os,
		"memory-overflow":    "<memory unit='EiB'>9</memory>" + os,
		"uuid-spaced":        "<uuid> 4DEA22B3 1d52 d8f3 2516 782e98ab3fa0 </uuid>" + mem + os,
		"uuid-dash-in-pair":  "<uuid>4-dea22b31d52d8f32516782e98ab3fa0</uuid>" + mem + os,
		"genid":              "<genid>zz</genid>" + mem + os,
		"title-newline":      "<title>a\nb</title>" + mem + os,
		"on-poweroff":        mem + os + "<on_poweroff>explode</on_poweroff>",
		"on-crash":           mem + os + "<on_crash>coredump-restart</on_crash>",
		"on-lockfailure":     mem + os + "<on_lockfailure>sulk</on_lockfailure>",
		"clock-offset":       mem + os + "<clock offset='martian'/>",
		"feature":            mem + os + "<features><bogus/></features>",
		"cpu-mode":           mem + os + "<cpu mode='turbo'/>",
		"cputune-shares":     mem + os + "<cputune><shares>x</shares></cputune>",
		"cputune-period":     mem + os + "<cputune><period>10</period></cputune>",
		"cputune-quota":      mem + os + "<cputune><quota>-5</quota></cputune>",
		"iothreads":          mem + os + "<iothreads>x</iothreads>",
		"memtune":            mem + "<memtune><hard_limit>x</hard_limit></memtune>" + os,
		"maxmemory-no-slots": mem + "<maxMemory>1048576</maxMemory>" + os,
		"numa-cell-memory":   mem + "<vcpu>4</vcpu>" + os + "<cpu><numa><cell id='0' cpus='0-3' memory='x'/></numa></cpu>",
		"pm":                 mem + os + "<pm><suspend-to-mem enabled='maybe'/></pm>",
		"seclabel":           mem + os + "<seclabel type='weird'/>",
		"keywrap":            mem + os + "<keywrap><cipher name='des' state='on'/></keywrap>",
		"idmap":              mem + os + "<idmap><uid start='0' target='x' count='1'/></idmap>",
	}
	js, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	r := d.Python(defineOracle, "test:///default?socket="+l.Socket, string(js))
	if r.Code != 0 {
		t.Fatalf("python: %+v", r)
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(r.Stdout), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("unexpected line %q", line)
		}
		seen++
		if f[1] != f[2] {
			t.Errorf("%s: libvirtd %s\n\tvirtxend %s", f[0], f[1], f[2])
		}
	}
	if seen != len(cases) {
		t.Errorf("%d answers for %d cases:\n%s", seen, len(cases), r.Stdout)
	}
}
