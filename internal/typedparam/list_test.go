package typedparam_test

import (
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/typedparam"
	"virtxend/internal/virerr"
)

// TestListAndSerialize: names formatted as virTypedParamListAdd* does;
// strings and holes left out without VIR_TYPED_PARAM_STRING_OKAY, kept
// with it; the limit counted before, as virTypedParamsSerialize does.
func TestListAndSerialize(t *testing.T) {
	var l typedparam.List
	l.AddString("vif1.0", "net.%d.name", 0)
	l.AddULLong(42, "net.%d.rx.bytes", 0)
	l.AddInt(1, "state.state")
	l.AddBoolean(true, "vcpu.%d.halted", 3)
	l = append(l, libvirt.TypedParam{})
	if l[0].Field != "net.0.name" || l[3].Field != "vcpu.3.halted" || l[3].Value.I != int32(1) {
		t.Fatalf("%+v", l)
	}
	got, err := typedparam.Serialize(l, 5, 0)
	if err != nil || len(got) != 3 || got[0].Field != "net.0.rx.bytes" {
		t.Errorf("without STRING_OKAY: %+v, %v", got, err)
	}
	got, err = typedparam.Serialize(l, 5, typedparam.StringOkay)
	if err != nil || len(got) != 4 || got[0].Field != "net.0.name" {
		t.Errorf("with STRING_OKAY: %+v, %v", got, err)
	}
	_, err = typedparam.Serialize(l, 4, typedparam.StringOkay)
	if w := virerr.As(err).Wire(); w.Code != libvirt.ErrRPC || w.Domain != virerr.FromNone ||
		w.Message != "too many parameters '5' for limit '4'" {
		t.Errorf("over the limit: %+v", w)
	}
}
