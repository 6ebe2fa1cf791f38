package remote

import (
	"context"
	"sync"
	"time"

	"virtxend/internal/sysinfo"
)

// sysinfoReadLimit bounds dmidecode's run.
const sysinfoReadLimit = 30 * time.Second

// hostSysinfo is the host's SMBIOS description, read with dmidecode once,
// at the first call, as libvirt's libxl driver reads it once at its start
// (virSysinfoRead); nil when it could not be read.
type hostSysinfo struct {
	once sync.Once
	def  *sysinfo.Def
}

func (h *hostSysinfo) get(log func(err error)) *sysinfo.Def {
	h.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), sysinfoReadLimit)
		defer cancel()
		d, err := sysinfo.Read(ctx)
		if err != nil {
			log(err)
			return
		}
		h.def = d
	})
	return h.def
}
