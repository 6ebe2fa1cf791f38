#!/bin/busybox sh
# /init of the domU initramfs. Prints DOMU-MARKER-OK on hvc0 (which xenconsoled
# logs in dom0). With xt.dev on the kernel command line it also checks the PV
# disk (xvda must start with the magic dom0 wrote) and the PV NIC (ping dom0
# over the in-VM bridge). Then it answers each line typed on its console
# (virsh console, xl console) with "DOMU-ECHO <line>". A clean shutdown request
# (xl shutdown, virsh shutdown) makes the kernel run /sbin/poweroff, which
# powers off at once.
# PID 1 must never exit, hence no "set -e" here.
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
printf '#!/bin/sh\necho DOMU-POWEROFF\nexec /bin/busybox poweroff -f\n' >/sbin/poweroff
chmod 755 /sbin/poweroff
echo "DOMU-MARKER-OK kernel=$(uname -r) up=$(cut -d' ' -f1 /proc/uptime)s $(grep MemTotal /proc/meminfo | tr -s ' ')"
if grep -q xt.dev /proc/cmdline; then
	insmod /lib/modules/xen-blkfront.ko
	insmod /lib/modules/xen-netfront.ko
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
# stdin is /dev/console, hvc0: not a controlling terminal, so reading it is allowed
while :; do
	if read -r line; then echo "DOMU-ECHO $line"; else sleep 3600; fi
done
