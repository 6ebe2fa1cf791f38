package driver

import "testing"

func TestScaleToKiB(t *testing.T) {
	cases := []struct {
		v    uint64
		unit string
		want uint64
	}{
		{512, "", 512}, {1, "MiB", 1024}, {2, "G", 2 << 20}, {1000, "KB", 977}, {1, "b", 1}, {1, "MB", 977},
	}
	for _, c := range cases {
		got, err := scaleToKiB(c.v, c.unit)
		if err != nil || got != c.want {
			t.Errorf("%d %s: %d %v", c.v, c.unit, got, err)
		}
	}
	if _, err := scaleToKiB(1, "furlong"); err == nil {
		t.Error("unknown unit accepted")
	}
	if _, err := scaleToKiB(1<<60, "EiB"); err == nil {
		t.Error("overflow accepted")
	}
}
