package driver

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"
)

// names lists the domains' names in order.
func names(list []Domain) []string {
	var out []string
	for _, d := range list {
		out = append(out, d.Name)
	}
	return out
}

// TestListAllOrderAndFilters: active domains first by id, then inactive
// ones by name, each filter pair as libvirt applies it, and every change of
// the list (define, start, destroy, undefine) seen by the next list.
func TestListAllOrderAndFilters(t *testing.T) {
	e := newEnv(t)
	drv, _ := e.start()
	c := define(t, drv, "c", 3, "")
	a := define(t, drv, "a", 1, "")
	define(t, drv, "b", 2, "")
	list := func(flags libvirt.ConnectListAllDomainsFlags) []string {
		t.Helper()
		l, err := drv.ListAll(ctx, uint32(flags))
		if err != nil {
			t.Fatal(err)
		}
		return names(l)
	}
	want := func(flags libvirt.ConnectListAllDomainsFlags, w ...string) {
		t.Helper()
		if got := list(flags); !slices.Equal(got, w) {
			t.Errorf("flags %#x: %v, want %v", flags, got, w)
		}
	}
	want(0, Dom0Name, "a", "b", "c")
	if _, err := drv.Create(ctx, c, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := drv.Create(ctx, a, 0); err != nil {
		t.Fatal(err)
	}
	want(0, Dom0Name, "c", "a", "b") // c started first: the lower id
	want(libvirt.ConnectListDomainsActive, Dom0Name, "c", "a")
	want(libvirt.ConnectListDomainsInactive, "b")
	want(libvirt.ConnectListDomainsActive|libvirt.ConnectListDomainsInactive, Dom0Name, "c", "a", "b")
	want(libvirt.ConnectListDomainsShutoff, "b")
	want(libvirt.ConnectListDomainsRunning, Dom0Name, "c", "a")
	want(libvirt.ConnectListDomainsTransient)
	if ids := drv.ListActiveIDs(ctx); len(ids) != 3 || ids[0] != 0 {
		t.Errorf("active ids %v", ids)
	}
	if got := drv.ListInactiveNames(ctx); !slices.Equal(got, []string{"b"}) {
		t.Errorf("inactive names %v", got)
	}
	if err := drv.Destroy(ctx, c, 0); err != nil {
		t.Fatal(err)
	}
	want(0, Dom0Name, "a", "b", "c")
	if err := drv.Undefine(ctx, c, 0); err != nil {
		t.Fatal(err)
	}
	want(0, Dom0Name, "a", "b")
}

// definedDomains writes n persistent definitions into the env's config
// directory, for a driver started afterwards to load: far quicker than n
// defines, each of which writes durably.
func definedDomains(t testing.TB, e *env, n int) {
	t.Helper()
	dir := e.root.DomainConfigDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		name := fmt.Sprintf("guest-%05d", i)
		xml := fmt.Sprintf(`<domain type='xen'><name>%s</name><uuid>%08x-1234-1234-1234-123456789abc</uuid>`+
			`<memory unit='MiB'>128</memory><vcpu>1</vcpu>`+
			`<os><type arch='x86_64' machine='xenpv'>xen</type><kernel>/boot/vmlinuz</kernel></os></domain>`, name, i)
		if err := os.WriteFile(filepath.Join(dir, name+".xml"), []byte(xml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkListAll10000 is virConnectListAllDomains of 10,000 inactive
// domains and Domain-0, with no filter (virsh list --all, virt-manager).
func BenchmarkListAll10000(b *testing.B) { benchListAll(b, 0, 10001) }

// BenchmarkListAllActive10000 is the same list filtered to active domains
// (virsh list): one of 10,001.
func BenchmarkListAllActive10000(b *testing.B) {
	benchListAll(b, uint32(libvirt.ConnectListDomainsActive), 1)
}

// benchListAll lists 10,000 defined domains and Domain-0 with flags,
// expecting want of them.
func benchListAll(b *testing.B, flags uint32, want int) {
	e := newEnv(b)
	definedDomains(b, e, 10000)
	drv, _ := e.start()
	b.ReportAllocs()
	for b.Loop() {
		l, err := drv.ListAll(ctx, flags)
		if err != nil || len(l) != want {
			b.Fatal(len(l), err)
		}
	}
}

// BenchmarkLookupByName is virDomainLookupByName among 1,000 domains.
func BenchmarkLookupByName(b *testing.B) {
	e := newEnv(b)
	definedDomains(b, e, 1000)
	drv, _ := e.start()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := drv.LookupByName(ctx, "guest-00500"); err != nil {
			b.Fatal(err)
		}
	}
}
