package libvirtd

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"

	libvirt "github.com/digitalocean/go-libvirt"
	"golang.org/x/sys/unix"

	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
)

// tokenBytes is libvirt's TOKEN_BYTES: the system token is 16 random
// bytes, written as 32 hex digits.
const tokenBytes = 16

// systemIdentity is the daemon's own identity as libvirt's
// virIdentityGetSystem makes it, which libvirt's daemons elevate with the
// system token (virIdentityElevateCurrent) when they act for themselves:
// the secret driver gives a private secret's value only to an identity
// carrying the token its own process read (virIdentityIsCurrentElevated).
func (c *Client) systemIdentity() ([]libvirt.TypedParam, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.identityDone {
		return c.identity, nil
	}
	token, err := EnsureSystemToken(filepath.Join(c.dir, "common", "system.token"))
	if err != nil {
		return nil, err
	}
	c.identity, c.identityDone = identityParams(os.Getpid(), token), true
	return c.identity, nil
}

// identityParams lists an identity as virIdentityGetParameters does.
func identityParams(pid int, token string) []libvirt.TypedParam {
	str := func(f, v string) libvirt.TypedParam {
		return libvirt.TypedParam{Field: f, Value: *libvirt.NewTypedParamValueString(v)}
	}
	ull := func(f string, v uint64) libvirt.TypedParam {
		return libvirt.TypedParam{Field: f, Value: *libvirt.NewTypedParamValueUllong(v)}
	}
	var out []libvirt.TypedParam
	uid, gid := os.Geteuid(), os.Getegid()
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		out = append(out, str("user-name", u.Username))
	}
	out = append(out, ull("unix-user-id", uint64(uid)))
	if g, err := user.LookupGroupId(strconv.Itoa(gid)); err == nil {
		out = append(out, str("group-name", g.Name))
	}
	out = append(out, ull("unix-group-id", uint64(gid)))
	out = append(out, libvirt.TypedParam{Field: "process-id", Value: *libvirt.NewTypedParamValueLlong(int64(pid))})
	if t, ok := rpc.ProcessStartTime(pid); ok {
		out = append(out, ull("process-time", t))
	}
	return append(out, str("system.token", token))
}

// EnsureSystemToken is virIdentityEnsureSystemToken: the token every
// libvirt daemon of the host shares, read from path, or written there by
// whichever daemon comes first, under a lock so that two first comers
// agree.
func EnsureSystemToken(path string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", virerr.System(virerr.FromNone, err, "Cannot create daemon common directory '%s'", filepath.Dir(path))
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return "", virerr.System(virerr.FromNone, err, "Unable to open system token %s", path)
	}
	defer f.Close()
	lock := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart, Start: 0, Len: 1}
	if err := unix.FcntlFlock(f.Fd(), unix.F_SETLKW, &lock); err != nil {
		return "", virerr.System(virerr.FromNone, err, "Failed to lock system token '%s'", path)
	}
	b := make([]byte, 2*tokenBytes+1)
	n, err := f.ReadAt(b, 0)
	if err != nil && err != io.EOF {
		return "", virerr.System(virerr.FromNone, err, "Failed to read system token '%s'", path)
	}
	if n == 0 {
		raw := make([]byte, tokenBytes)
		rand.Read(raw)
		token := hex.EncodeToString(raw)
		if _, err := f.WriteString(token); err != nil {
			return "", virerr.System(virerr.FromNone, err, "Failed to write system token '%s'", path)
		}
		return token, nil
	}
	if n != 2*tokenBytes {
		return "", virerr.New(virerr.FromNone, libvirt.ErrSystemError, "%s", fmt.Sprintf("System token in %s was corrupt", path))
	}
	return string(b[:n]), nil
}
