package rpc

import (
	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
	"virtxend/internal/xdr"
)

// remoteError is libvirt's remote_error (virNetMessageError). dom and net
// are always NULL: no client reads them.
type remoteError struct {
	Code    int32
	Domain  int32
	Message *string
	Level   int32
	Dom     *struct{} // remote_domain, always NULL
	Str1    *string
	Str2    *string
	Str3    *string
	Int1    int32
	Int2    int32
	Net     *struct{} // remote_network, always NULL
}

// errLevelError is VIR_ERR_ERROR.
const errLevelError = 2

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// errorBody is the one place an error becomes wire bytes.
func errorBody(err error) []byte {
	if err == nil {
		err = virerr.New(virerr.FromRPC, libvirt.ErrInternalError,
			"Library function returned error but did not set virError")
	}
	e := virerr.As(err).Wire()
	body, encErr := xdr.Marshal(&remoteError{
		Code: int32(e.Code), Domain: int32(e.Domain), Message: optional(e.Message),
		Level: errLevelError, Str1: optional(e.Str1), Str2: optional(e.Str2), Str3: optional(e.Str3),
		Int1: e.Int1, Int2: e.Int2,
	})
	if encErr != nil { // only an over-long message can fail; send its code alone
		body, _ = xdr.Marshal(&remoteError{Code: int32(e.Code), Domain: int32(e.Domain), Level: errLevelError, Int1: -1, Int2: -1})
	}
	return body
}

// rpcError builds a VIR_ERR_RPC error from the RPC layer (domain VIR_FROM_RPC).
func rpcError(format string, args ...any) *virerr.Error {
	return virerr.New(virerr.FromRPC, libvirt.ErrRPC, format, args...)
}
