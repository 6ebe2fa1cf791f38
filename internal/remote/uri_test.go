package remote

import (
	"net/url"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

func TestResolveURI(t *testing.T) {
	for _, c := range []struct {
		in, want string
		code     libvirt.ErrorNumber
	}{
		{"", systemURI, 0},
		{"xen:///system", "xen:///system", 0},
		{"xen:///", "xen:///", 0},
		{"xen://", "xen://", 0},
		{"xen:///session", "", libvirt.ErrInternalError},
		{"qemu:///system", "", libvirt.ErrNoConnect},
		{"xen://host/system", "", libvirt.ErrNoConnect},
		{"system", "", libvirt.ErrNoConnect},
	} {
		got, err := resolveURI(c.in)
		if c.code == 0 {
			if err != nil || got != c.want {
				t.Errorf("%q: %q %v, want %q", c.in, got, err, c.want)
			}
			continue
		}
		if e := virerr.As(err); e == nil || e.Code != c.code {
			t.Errorf("%q: %q %v, want code %d", c.in, got, err, c.code)
		}
	}
}

func FuzzResolveURI(f *testing.F) {
	for _, s := range []string{"", "xen:///system", "xen:///session", "xen://h/", "%zz", "xen:///system?x=%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got, err := resolveURI(name)
		if err != nil {
			if virerr.As(err).Code == libvirt.ErrInternalError && virerr.As(err).Domain != virerr.FromLibxl {
				t.Fatalf("%q: path error outside the libxl domain", name)
			}
			return
		}
		if name == "" {
			return
		}
		u, perr := url.Parse(got)
		if perr != nil || u.Scheme != "xen" || u.Host != "" {
			t.Fatalf("%q accepted as %q", name, got)
		}
	})
}
