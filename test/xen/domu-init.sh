#!/bin/busybox sh
# /init of the domU initramfs. Prints DOMU-MARKER-OK on hvc0 (which xenconsoled
# logs in dom0). With xt.dev on the kernel command line it also checks the PV
# disk (xvda must start with the magic dom0 wrote) and the PV NIC (ping dom0
# over the in-VM bridge). Then it answers each line typed on its console
# (virsh console, xl console) with "DOMU-ECHO <line>", and meanwhile watches for
# hot-plugged devices: a new block device is reported as DOMU-BLK-ADD with its
# size and first 16 bytes, a gone one as DOMU-BLK-DEL; a new NIC takes the
# guest's address (the first NIC goes down) and pings dom0 (DOMU-HOTNET-OK or
# -FAIL), a gone one is DOMU-NET-DEL. With xt.pci it lists the PCI devices it sees
# (DOMU-PCI lines). With xt.count it prints "TIME DOMU-COUNT N" once a second (N from 0
# at boot, TIME the guest's clock). A clean shutdown request (xl shutdown,
# virsh shutdown) makes the kernel run /sbin/poweroff, which powers off at once. A line
# "xt-write DEV SECTOR WORD" typed on its console writes WORD into that sector of a disk and
# answers DOMU-WROTE, "xt-read DEV SECTOR" answers DOMU-READ with the sector's first word.
# PID 1 must never exit, hence no "set -e" here.
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /sbin /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
printf '#!/bin/sh\necho DOMU-POWEROFF\nexec /bin/busybox poweroff -f\n' >/sbin/poweroff
chmod 755 /sbin/poweroff
echo "DOMU-MARKER-OK kernel=$(uname -r) up=$(cut -d' ' -f1 /proc/uptime)s $(grep MemTotal /proc/meminfo | tr -s ' ')"
# The PV frontends, so that any guest can take hot-plugged disks and NICs.
insmod /lib/modules/xen-blkfront.ko
insmod /lib/modules/xen-netfront.ko
# With xt.pci (PCI passthrough; xt.pci=SECS: wait that long for a device), pcifront and the
# passed-through NIC's driver, then one DOMU-PCI line per PCI device the guest sees, with the
# driver that took it, and DOMU-PCI-DONE. A PV guest sees its devices through pcifront on a
# bus of its own (0000:00:00.0 for the first), an HVM guest among the device model's.
if grep -q xt.pci /proc/cmdline; then
	insmod /lib/modules/xen-pcifront.ko
	insmod /lib/modules/e1000e.ko
	w=$(sed -n 's/.*xt\.pci=\([0-9]*\).*/\1/p' /proc/cmdline)
	i=0
	while [ -z "$(ls /sys/bus/pci/devices 2>/dev/null)" ] && [ $i -lt "${w:-30}" ]; do sleep 1; i=$((i + 1)); done
	sleep 2
	for d in /sys/bus/pci/devices/*; do
		[ -e "$d" ] || continue
		dr=$(readlink "$d/driver")
		echo "DOMU-PCI ${d##*/} $(cat "$d/vendor"):$(cat "$d/device") class=$(cat "$d/class") driver=${dr##*/}"
	done
	echo "DOMU-PCI-DONE $(ls /sys/bus/pci/devices | wc -l) devices, NICs: $(ls /sys/class/net | tr '\n' ' ')"
fi
if grep -q xt.dev /proc/cmdline; then
	i=0
	while [ ! -b /dev/xvda ] && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
	if [ "$(head -c 16 /dev/xvda 2>/dev/null)" = "XENQEMU-DISK-OK!" ]; then
		echo "DOMU-DISK-OK sectors=$(cat /sys/block/xvda/size)"
	else
		echo "DOMU-DISK-FAIL"
	fi
	i=0
	while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
	ip link set eth0 up
	ip addr add 169.254.77.2/24 dev eth0
	if ping -c 3 -W 3 169.254.77.1 >/dev/null; then echo "DOMU-NET-OK"; else echo "DOMU-NET-FAIL"; fi
fi
blocks() { ls /sys/block | grep -v -E '^(loop|ram)' | tr '\n' ' '; }
nics() { ls /sys/class/net | grep -v '^lo$' | tr '\n' ' '; }
# hotplugged NEW OLD: the words of NEW not in OLD
hotplugged() { for w in $1; do case " $2 " in *" $w "*) ;; *) echo "$w" ;; esac; done; }
# hotping NIC: ping dom0 through a NIC that just came, for up to a minute. netfront makes
# the NIC as soon as it probes, but it carries nothing until dom0's hotplug script has
# put the backend's vif on the bridge, which took 8 s on a loaded host.
hotping() {
	i=0
	until [ "$(cat /sys/class/net/$1/carrier 2>/dev/null)" = 1 ] || [ $i -ge 30 ]; do sleep 1; i=$((i + 1)); done
	i=0
	until ping -c 1 -W 2 169.254.77.1 >/dev/null; do
		i=$((i + 1))
		[ $i -lt 10 ] || return 1
		sleep 1
	done
}
# watch_devices: report, once a second, the block devices and NICs that came or went
# (sysfs is the guest's own view: a device is there once its frontend connected)
watch_devices() {
	B=$(blocks) N=$(nics)
	while :; do
		sleep 1
		b=$(blocks) n=$(nics)
		for d in $(hotplugged "$b" "$B"); do
			i=0
			while [ ! -b /dev/$d ] && [ $i -lt 10 ]; do sleep 1; i=$((i + 1)); done
			echo "DOMU-BLK-ADD $d sectors=$(cat /sys/block/$d/size) magic=$(head -c 16 /dev/$d 2>/dev/null | tr -c 'A-Za-z0-9!-' '.')"
		done
		for d in $(hotplugged "$B" "$b"); do echo "DOMU-BLK-DEL $d"; done
		# a new NIC takes over the guest's address, so that a ping can only go through it
		for d in $(hotplugged "$n" "$N"); do
			for o in $N; do ip link set "$o" down; ip addr flush dev "$o"; done
			ip link set "$d" up
			ip addr add 169.254.77.2/24 dev "$d"
			if hotping "$d"; then echo "DOMU-HOTNET-OK $d"; else echo "DOMU-HOTNET-FAIL $d"; fi
		done
		for d in $(hotplugged "$N" "$n"); do echo "DOMU-NET-DEL $d"; done
		B=$b N=$n
	done
}
# in the background, away from the console's input, which the loop below reads
watch_devices </dev/null &
# With xt.count, a counter on the console once a second (xt.count=SECS: every SECS), each
# line after the guest's clock with microseconds (busybox ts): a saved and restored guest goes
# on from where it stopped, a rebooted one starts again from 0, and a migrated one's gap in
# the clock between two lines, less the usual one, is the time it did not run
if grep -q xt.count /proc/cmdline; then
	tick=$(sed -n 's/.*xt\.count=\([0-9.]*\).*/\1/p' /proc/cmdline)
	(
		n=0
		while :; do
			echo "DOMU-COUNT $n"
			n=$((n + 1))
			sleep "${tick:-1}"
		done
	) </dev/null | ts '%.s' &
fi
# xt_write DEV SECTOR WORD: WORD, padded with blanks to 512 bytes, into sector SECTOR of
# block device DEV, flushed to the disk (fsync: blkfront sends the write and a flush)
xt_write() {
	i=0
	while [ ! -b "/dev/$1" ] && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
	printf '%-512s' "$3" >/tmp/xt-sector
	dd if=/tmp/xt-sector of="/dev/$1" bs=512 seek="$2" count=1 conv=notrunc,fsync 2>/dev/null
	echo "DOMU-WROTE $1 $2 $3 rc=$?"
}
# xt_read DEV SECTOR: the first word of sector SECTOR of DEV as the disk has it now (the
# page cache dropped first: a restored guest's cache is its memory's)
xt_read() {
	i=0
	while [ ! -b "/dev/$1" ] && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
	sync
	echo 3 >/proc/sys/vm/drop_caches
	w=$(dd if="/dev/$1" bs=512 skip="$2" count=1 2>/dev/null | tr -c 'A-Za-z0-9-' ' ' | awk '{ print $1 }')
	echo "DOMU-READ $1 $2 ${w:--}"
}
# stdin is /dev/console, hvc0: not a controlling terminal, so reading it is allowed. A typed
# "xt-write DEV SECTOR WORD" or "xt-read DEV SECTOR" (dom0's lib.sh: guest_write, guest_read)
# writes or reads a sector of a disk; any other line is echoed
while :; do
	if read -r line; then
		set -- $line
		case $1 in
		xt-write) [ $# = 4 ] && xt_write "$2" "$3" "$4" || echo "DOMU-WROTE bad: $line" ;;
		xt-read) [ $# = 3 ] && xt_read "$2" "$3" || echo "DOMU-READ bad: $line" ;;
		*) echo "DOMU-ECHO $line" ;;
		esac
	else
		sleep 3600
	fi
done
