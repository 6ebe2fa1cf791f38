package hostname

import (
	"context"
	"errors"
	"syscall"
	"testing"
)

type fakeResolver map[string]string

func (f fakeResolver) LookupCNAME(_ context.Context, h string) (string, error) {
	if c, ok := f[h]; ok {
		return c, nil
	}
	return "", errors.New("no such host")
}

func TestGet(t *testing.T) {
	r := fakeResolver{"xen1": "xen1.example.org.", "lo": "localhost.", "bare": ""}
	for _, tt := range []struct{ host, want string }{
		{"xen1", "xen1.example.org"},   // short: canonicalized
		{"xen2", "xen2"},               // not resolvable: kept
		{"lo", "lo"},                   // canonical localhost: kept
		{"bare", "bare"},               // no canonical name: kept
		{"localhost.x", "localhost.x"}, // localhost: never looked up
		{"a.b", "a.b"},                 // qualified already
	} {
		got, err := get(context.Background(), func() (string, error) { return tt.host, nil }, r)
		if err != nil || got != tt.want {
			t.Errorf("%s: %q %v, want %q", tt.host, got, err, tt.want)
		}
	}
	_, err := get(context.Background(), func() (string, error) { return "", syscall.EFAULT }, r)
	if err == nil || err.Error() != "failed to determine host name: Bad address" {
		t.Errorf("error %v", err)
	}
}
