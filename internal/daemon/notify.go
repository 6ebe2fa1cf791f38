package daemon

import (
	"fmt"
	"time"

	sddaemon "github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sys/unix"
)

// notifier sends sd_notify state changes when NOTIFY_SOCKET is set and is
// silent otherwise (go-systemd checks the variable for us).
type notifier struct{}

func (notifier) send(state string) {
	sddaemon.SdNotify(false, state)
}

func (n notifier) ready()    { n.send(sddaemon.SdNotifyReady) }
func (n notifier) stopping() { n.send(sddaemon.SdNotifyStopping) }

// reloading announces a reload. systemd 252 (Type=notify) shows the unit
// as reloading until READY=1; newer systemd's Type=notify-reload also
// needs the timestamp, to match the READY=1 to this reload.
func (n notifier) reloading() {
	n.send(fmt.Sprintf("RELOADING=1\nMONOTONIC_USEC=%d", monotonicMicros()))
}

func monotonicMicros() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return time.Now().UnixMicro()
	}
	return ts.Nano() / 1000
}
