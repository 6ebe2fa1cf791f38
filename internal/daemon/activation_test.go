package daemon

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// These cases fail before any fd is used, so no real sockets are needed.
func TestActivationNeedsNamedFDs(t *testing.T) {
	pid := strconv.Itoa(os.Getpid())
	cases := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"LISTEN_PID": pid, "LISTEN_FDS": "1"}, "missing LISTEN_FDNAMES"},
		{map[string]string{"LISTEN_PID": pid, "LISTEN_FDS": "2", "LISTEN_FDNAMES": "virtxend.socket"}, "expecting 2 FD names but got 1"},
	}
	for _, c := range cases {
		for k, v := range c.env {
			t.Setenv(k, v)
		}
		if _, err := takeActivation(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.env, err, c.want)
		}
		if os.Getenv("LISTEN_FDS") != "" {
			t.Error("LISTEN_FDS was left for children to inherit")
		}
	}
}

func TestActivationIgnoresOtherProcessesFDs(t *testing.T) {
	t.Setenv("LISTEN_PID", "1")
	t.Setenv("LISTEN_FDS", "3")
	files, err := takeActivation()
	if err != nil || files != nil {
		t.Fatalf("got %v, %v; want plain mode", files, err)
	}
}

func TestUnclaimedActivationFDsAreAnError(t *testing.T) {
	r, w, _ := os.Pipe()
	defer w.Close()
	specs := []socketSpec{{unitName: "virtxend.socket"}}
	err := claimActivation(specs, map[string]*os.File{"virtxend.socket": nil, "stray.socket": r})
	if err == nil || !strings.Contains(err.Error(), "unclaimed") || !strings.Contains(err.Error(), "stray.socket") {
		t.Fatalf("error %v", err)
	}
}
