#!/bin/busybox sh
# /init of the dom0 initramfs. It does what udev and xencommons would do on a
# real dom0 (filesystems, /dev links, Xen modules, xenfs), runs the checks
# (/xt/dom0-checks.sh, then /xt/daemon-checks.sh and /xt/oracle.sh if the daemon is in
# the image; with XT_ONLY=oracle on the kernel's command line, only what oracle.sh needs;
# with XT_ONLY=save, only the save checks and figures of both (daemon-checks.sh, oracle.sh);
# with XT_NO_ORACLE=1, all but oracle.sh; with XT_ROLE=mig-src or mig-dst, migrate-checks.sh alone)
# and powers the machine off, which ends QEMU. As PID 1 it must not exit, so it
# runs without "set -e"; the check scripts themselves use set -eu.
/bin/busybox --install -s /bin
export PATH=/usr/lib/xen-4.17/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# the initramfs is a tmpfs capped at half of dom0's memory; the image (190 MB once the domU
# kernel below is unpacked, virsh's libraries are 70 MB of it) plus the guests' disks, logs
# and test output do not fit in that
mount -o remount,size=85% / || echo "DOM0-INIT: could not grow the root tmpfs"
# the domU kernel comes gzipped: unpacked (66 MB, much of it zeros) it would not fit in that
# tmpfs while the kernel unpacks the image, when it is capped at half of dom0's memory
if [ -f /root/vmlinuz.gz ]; then
	gunzip /root/vmlinuz.gz || echo "DOM0-INIT: could not unpack the domU kernel"
fi
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /dev/shm
# udev makes these; without /dev/stdin the hotplug scripts' claim_lock spins forever
ln -s /proc/self/fd /dev/fd
for i in 0:stdin 1:stdout 2:stderr; do ln -s "/proc/self/fd/${i%:*}" "/dev/${i#*:}"; done
mkdir -p /run/xen /run/xenstored /run/lock /var/lib/xen /var/lib/xenstored /var/log/xen/console /tmp
ln -s /run/lock /var/lock
hostname dom0
syslogd -O /var/log/messages # the hotplug scripts log through logger
echo "DOM0-INIT up=$(cut -d' ' -f1 /proc/uptime)"
if [ -n "${XT_ROLE:-}" ]; then
	# migrate.sh: one of two hosts (XT_ROLE=mig-src or mig-dst), its checks only
	/bin/sh /xt/migrate-checks.sh
else
	/bin/sh /xt/dom0-checks.sh
	if [ "${XT_ONLY:-}" = oracle ]; then
		/bin/sh /xt/daemon-checks.sh --skip "not run (ONLY=oracle)"
	elif [ -x /xt/virtxend ]; then
		/bin/sh /xt/daemon-checks.sh
	fi
	if [ -n "${XT_NO_ORACLE:-}" ]; then
		/bin/sh /xt/oracle.sh --skip "not run (NO_ORACLE=1)"
	elif [ -x /xt/virtxend ]; then
		/bin/sh /xt/oracle.sh
	fi
	# xenstored and xenconsoled restarted under the daemon: last, as a restarted xenstored
	# has lost dom0's backend watches
	if [ "${XT_ONLY:-}" != oracle ] && [ -x /xt/virtxend ]; then
		/bin/sh /xt/daemon-checks.sh --restarts
	fi
fi
echo "=== memory at the end"
free -m
xl info 2>/dev/null | grep -E '^(total|free)_memory'
echo "ALL-CHECKS-DONE up=$(cut -d' ' -f1 /proc/uptime)"
sync
poweroff -f
sleep 5
# fallback: QEMU's isa-debug-exit device at port 0xf4
printf X | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
while :; do sleep 3600; done
