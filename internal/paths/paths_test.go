package paths

import "testing"

func TestUnderPrefixesEveryRoot(t *testing.T) {
	p := Under("/tmp/r")
	cases := map[string]string{
		p.DaemonConfig():    "/tmp/r/etc/libvirt/virtxend.conf",
		p.LibxlConfig():     "/tmp/r/etc/libvirt/libxl.conf",
		p.DomainConfigDir(): "/tmp/r/etc/libvirt/libxl",
		p.SocketDir():       "/tmp/r/run/libvirt",
		p.PidFile():         "/tmp/r/run/virtxend.pid",
		p.LibDir():          "/tmp/r/var/lib/libvirt/libxl",
		p.LogDir():          "/tmp/r/var/log/libvirt",
		p.DriverLock():      "/tmp/r/run/libvirt/libxl/driver.pid",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv(RootEnv, "")
	if FromEnv() != Default() {
		t.Fatal("empty VIRTXEND_ROOT must mean the host's roots")
	}
	t.Setenv(RootEnv, "/x")
	if FromEnv().RunStateDir != "/x/run" {
		t.Fatal("VIRTXEND_ROOT not honoured")
	}
}
