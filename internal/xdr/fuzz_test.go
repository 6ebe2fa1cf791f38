package xdr

import (
	"bytes"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"
)

// FuzzUnmarshal decodes arbitrary bytes into a spread of libvirt wire types.
// Decoding must fail cleanly or succeed; a success must re-encode to a prefix
// of the input modulo lenient booleans, so we only check that re-decoding the
// re-encoding succeeds and is stable.
func FuzzUnmarshal(f *testing.F) {
	seeds := []any{
		&libvirt.ConnectOpenArgs{Name: libvirt.OptString{"xen:///system"}, Flags: 1},
		&libvirt.ConnectListAllDomainsRet{Domains: []libvirt.Domain{{Name: "a", ID: 3}}, Ret: 1},
		&libvirt.DomainGetSchedulerParametersRet{Params: []libvirt.TypedParam{
			{Field: "weight", Value: *libvirt.NewTypedParamValueUint(256)},
			{Field: "s", Value: *libvirt.NewTypedParamValueString("x")}}},
		&libvirt.DomainGetSecurityLabelRet{Label: []int8{1, 2}, Enforcing: 1},
		&libvirt.NodeGetSecurityModelRet{Model: []int8{'x'}, Doi: []int8{'0'}},
		&libvirt.DomainEventCallbackLifecycleMsg{CallbackID: 1},
	}
	for _, s := range seeds {
		b, err := Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		targets := []func() any{
			func() any { return new(libvirt.ConnectOpenArgs) },
			func() any { return new(libvirt.ConnectListAllDomainsRet) },
			func() any { return new(libvirt.DomainGetSchedulerParametersRet) },
			func() any { return new(libvirt.DomainGetSecurityLabelRet) },
			func() any { return new(libvirt.NodeGetInfoRet) },
			func() any { return new(libvirt.DomainDefineXMLFlagsArgs) },
		}
		for _, mk := range targets {
			v := mk()
			if Unmarshal(data, v) != nil {
				continue
			}
			enc, err := Marshal(v)
			if err != nil {
				t.Fatalf("%T decoded but does not encode: %v", v, err)
			}
			w := mk()
			if err := Unmarshal(enc, w); err != nil {
				t.Fatalf("%T re-decode: %v", v, err)
			}
			enc2, _ := Marshal(w)
			if !bytes.Equal(enc, enc2) {
				t.Fatalf("%T unstable: %x vs %x", v, enc, enc2)
			}
		}
	})
}
