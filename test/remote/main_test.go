// Package remote tests the remote program with stock libvirt clients:
// virsh, libvirt-python and go-libvirt against the real daemon on the
// simulated Xen host.
package remote

import (
	"os"
	"path/filepath"
	"testing"

	"virtxend/test/daemontest"
)

func TestMain(m *testing.M) { os.Exit(daemontest.Main(m)) }

// pvXML is a small paravirtualised guest.
func pvXML(name string) string {
	return `<domain type='xen'>
  <name>` + name + `</name>
  <memory unit='MiB'>256</memory>
  <vcpu current='1'>2</vcpu>
  <os><type arch='x86_64' machine='xenpv'>linux</type><kernel>/boot/vmlinuz</kernel></os>
</domain>`
}

// guestFile writes a domain XML file for virsh and returns its path.
func guestFile(t *testing.T, name, xml string) string {
	p := filepath.Join(t.TempDir(), name+".xml")
	if err := os.WriteFile(p, []byte(xml), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
