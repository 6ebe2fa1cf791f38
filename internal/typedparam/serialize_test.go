package typedparam

import (
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

func TestSerialize(t *testing.T) {
	params := []libvirt.TypedParam{NewInt("numa_mode", 2), NewString("numa_nodeset", "0"), NewUInt("weight", 256)}
	out, err := Serialize(params, 16, StringOkay)
	if err != nil || len(out) != 3 {
		t.Fatalf("with strings: %+v %v", out, err)
	}
	out, err = Serialize(params, 16, 0)
	if err != nil || len(out) != 2 || out[0].Field != "numa_mode" || out[1].Field != "weight" {
		t.Fatalf("without strings: %+v %v", out, err)
	}
	_, err = Serialize(params, 2, StringOkay)
	if w := virerr.As(err).Wire(); w.Code != libvirt.ErrRPC || w.Message != "too many parameters '3' for limit '2'" {
		t.Fatalf("over the limit: %+v", w)
	}
}
