#!/usr/bin/env bash
# test/xen/oracle-host.sh SERIAL-LOG OUT-DIR: run.sh's host side of oracle.sh. It unpacks the
# oracle's transcripts, JSON and report from the serial log into OUT-DIR (each daemon's
# answers in libvirt/ and virtxend/, every difference in report.txt) and prints the
# side-by-side figures of the two daemons, with virtxend's over libvirt's as a ratio.
set -euo pipefail
SERIAL=$1 OUT=$2
grep -a -q ORACLE-ARCHIVE-BEGIN "$SERIAL" || exit 0
rm -rf "$OUT"
mkdir -p "$OUT"
# each archive is base64 between BEGIN and END lines, which the serial log prefixes with
# "[seconds] " (run.sh)
sed 's/^\[ *[0-9.]*\] //' "$SERIAL" | tr -d '\r' | awk -v out="$OUT/.archive" '
	/^ORACLE-ARCHIVE-BEGIN/ { n++; on = 1; next }
	/^ORACLE-ARCHIVE-END/ { on = 0; next }
	on { print > (out "." n) }'
for a in "$OUT"/.archive.*; do
	[ -f "$a" ] || continue
	base64 -d <"$a" 2>/dev/null | tar -xzf - -C "$OUT" 2>/dev/null || echo "    oracle: $a in the serial log did not unpack"
	rm -f "$a"
done
echo "    oracle: transcripts and report in $OUT"
grep -a -o -E 'FIGURE (libvirt|virtxend) .*' "$SERIAL" | awk '
	# the serial console ends its lines with a carriage return
	{ sub(/\r$/, ""); $0 = $0 }
	$3 == "load" {
		# FIGURE SIDE load {"workload":"lookup",...,"ops_per_sec":N,...}
		w = $0; sub(/.*"workload":"/, "", w); sub(/".*/, "", w)
		o = $0; sub(/.*"ops_per_sec":/, "", o); sub(/[,}].*/, "", o); o = sprintf("%.0f", o)
		p = $0; sub(/.*"p50_us":/, "", p); sub(/[,}].*/, "", p)
		# the daemon CPU a call, when the load tool could read it
		c = ""; if ($0 ~ /"daemon_cpu_us_per_call":/) { c = $0; sub(/.*"daemon_cpu_us_per_call":/, "", c); sub(/[,}].*/, "", c); c = sprintf("%.0f", c) }
		v[$2, w " ops/s"] = o; v[$2, w " p50 us"] = p; v[$2, w " cpu us"] = c
		if (!((w " ops/s") in seen)) { seen[w " ops/s"] = 1; order[++n] = w " ops/s"; order[++n] = w " p50 us"; order[++n] = w " cpu us" }
		next
	}
	{ v[$2, $3] = $4; if (!($3 in seen)) { seen[$3] = 1; order[++n] = $3 } }
	END {
		if (n == 0) exit
		printf "    %-18s %10s %10s %8s\n", "figure (s)", "libvirt", "virtxend", "ratio"
		for (i = 1; i <= n; i++) {
			k = order[i]; a = v["libvirt", k]; b = v["virtxend", k]
			r = (a + 0 > 0 && b != "") ? sprintf("%.2f", b / a) : "-"
			printf "    %-18s %10s %10s %8s\n", k, a, b, r
		}
	}'
