package xdr

import (
	"fmt"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"
)

func benchDomains(n int) *libvirt.ConnectListAllDomainsRet {
	ret := &libvirt.ConnectListAllDomainsRet{Ret: uint32(n)}
	for i := range n {
		ret.Domains = append(ret.Domains, libvirt.Domain{Name: fmt.Sprintf("guest-%03d", i), UUID: testUUID, ID: int32(i)})
	}
	return ret
}

func benchParams() *libvirt.DomainGetSchedulerParametersRet {
	return &libvirt.DomainGetSchedulerParametersRet{Params: []libvirt.TypedParam{
		{Field: "weight", Value: *libvirt.NewTypedParamValueUint(256)},
		{Field: "cap", Value: *libvirt.NewTypedParamValueUint(0)},
		{Field: "period", Value: *libvirt.NewTypedParamValueUllong(100000)},
		{Field: "name", Value: *libvirt.NewTypedParamValueString("credit")},
	}}
}

func BenchmarkEncodeDomain(b *testing.B) {
	v := &libvirt.DomainLookupByNameRet{Dom: libvirt.Domain{Name: "guest", UUID: testUUID, ID: 4}}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Append(buf[:0], v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeDomain(b *testing.B) {
	data, _ := Marshal(&libvirt.DomainLookupByNameRet{Dom: libvirt.Domain{Name: "guest", UUID: testUUID, ID: 4}})
	b.ReportAllocs()
	for b.Loop() {
		var v libvirt.DomainLookupByNameRet
		if err := Unmarshal(data, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeList100(b *testing.B) {
	v := benchDomains(100)
	buf := make([]byte, 0, 8192)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Append(buf[:0], v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeList100(b *testing.B) {
	data, _ := Marshal(benchDomains(100))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var v libvirt.ConnectListAllDomainsRet
		if err := Unmarshal(data, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeTypedParams(b *testing.B) {
	v := benchParams()
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Append(buf[:0], v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeTypedParams(b *testing.B) {
	data, _ := Marshal(benchParams())
	b.ReportAllocs()
	for b.Loop() {
		var v libvirt.DomainGetSchedulerParametersRet
		if err := Unmarshal(data, &v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeList10000 is the reply of virConnectListAllDomains with
// 10,000 domains (the load tool's names): 440 KB.
func BenchmarkEncodeList10000(b *testing.B) {
	v := &libvirt.ConnectListAllDomainsRet{Ret: 10000}
	for i := range 10000 {
		v.Domains = append(v.Domains, libvirt.Domain{Name: fmt.Sprintf("load-pop-%05d", i), UUID: testUUID, ID: -1})
	}
	b.ReportAllocs()
	for b.Loop() {
		buf, err := Append(make([]byte, 0, 256), v)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(buf)))
	}
}
