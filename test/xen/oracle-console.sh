# shellcheck shell=sh
# test/xen/oracle-console.sh: the oracle's console area, run on script(1)'s pty.
# Sourced by oracle.sh, whose settings and session helpers (sec, run_batch, SIDE, URI,
# OD) it uses.

# ---- the console (issue 9): virsh console runs only on a terminal, so these run on
# script(1)'s pty. A session on the booted vx-pv (the guest answers a typed line with
# DOMU-ECHO), a second one refused while it is open, one with --force that takes the console
# over (the first ends), and the wrong calls; ttyconsole of both guests. A session's
# transcript keeps virsh's lines and the guest's answer (the guest's boot output, which the
# pty held for whoever connects first, and its echo of the typed line are not compared).
area_console() {
	sec console/ttyconsole "ttyconsole vx-pv; ttyconsole vx-dev; ttyconsole Domain-0"
	sec console/errors "console vx-pv nosuch; console vx-pv --safe; console Domain-0; console nosuch"
	run_tty_batch console
	con_open a vx-pv || echo "oracle: $SIDE: $WHY"
	con_line a oracle-con-a || echo "oracle: $SIDE: $WHY"
	sec console/busy "console vx-pv"
	run_tty_batch console
	con_open b "--force vx-pv" || echo "oracle: $SIDE: $WHY"
	con_line b oracle-con-b || echo "oracle: $SIDE: $WHY"
	# the first session ends by itself once the second forced it out; ^] if it did not
	con_end a 10 noescape
	con_end b 10
	con_section console/session a
	con_section console/session-force b
}
# run_tty_batch AREA: run_batch on script(1)'s pty
run_tty_batch() {
	_tb=$(now)
	rm -f $TMPD/oracle-tty.in $TMPD/oracle-tty.out
	mkfifo $TMPD/oracle-tty.in
	script -q -f -c "timeout 30 virsh -t -c '$URI' '$B'" $TMPD/oracle-tty.out <$TMPD/oracle-tty.in >/dev/null 2>&1 &
	_sp=$!
	exec 4>$TMPD/oracle-tty.in
	_j=0
	while kill -0 $_sp 2>/dev/null && [ $_j -lt 350 ]; do sleep 0.1; _j=$((_j + 1)); done
	kill $_sp 2>/dev/null || true
	exec 4>&-
	wait $_sp 2>/dev/null || true
	# (script(1) writes a header and a footer into its file even with -q when its input is
	# no terminal)
	tr -d '\r' <$TMPD/oracle-tty.out | grep -a -v -E '^(Script (started|done) on |Authorization not available)' >>"$OD/$1.txt"
	rm -f $TMPD/oracle-tty.in $TMPD/oracle-tty.out
	echo "oracle: $SIDE: $1 batch on a pty in $(since "$_tb") s"
	B=
}
# con_open ID ARGS: "virsh console ARGS" on script(1)'s pty in the background, its input the
# fifo $TMPD/oracle-con-ID.in (held open on fd 5 or 6), its output $TMPD/oracle-con-ID.out;
# until it says "Escape character" (30 s)
con_open() {
	rm -f $TMPD/oracle-con-$1.in $TMPD/oracle-con-$1.out
	mkfifo $TMPD/oracle-con-$1.in
	script -q -f -c "virsh -c '$URI' console $2" $TMPD/oracle-con-$1.out <$TMPD/oracle-con-$1.in >/dev/null 2>&1 &
	eval "CONPID_$1=$!"
	if [ "$1" = a ]; then exec 5>$TMPD/oracle-con-$1.in; else exec 6>$TMPD/oracle-con-$1.in; fi
	con_wait "$1" 'Escape character' 30
}
# con_wait ID REGEX SECS: until session ID's output has a line matching REGEX
con_wait() {
	_j=0
	until tr -d '\r' <$TMPD/oracle-con-$1.out 2>/dev/null | grep -a -q -E "$2"; do
		[ $_j -lt $(($3 * 10)) ] || { WHY="console session $1 printed no '$2' within $3 s: $(tail -c 200 $TMPD/oracle-con-$1.out 2>/dev/null | tr -d '\r' | tr '\n' '|')"; return 1; }
		sleep 0.1
		_j=$((_j + 1))
	done
}
# con_line ID TOKEN: type TOKEN into session ID, until the guest's DOMU-ECHO of it (30 s)
con_line() {
	if [ "$1" = a ]; then printf '%s\r' "$2" >&5; else printf '%s\r' "$2" >&6; fi
	con_wait "$1" "DOMU-ECHO $2" 30
}
# con_end ID SECS [noescape]: ^] into session ID (at once, or with noescape after SECS if it
# still runs), until it exits
con_end() {
	eval "_p=\$CONPID_$1"
	_j=0
	if [ -z "${3:-}" ]; then
		if [ "$1" = a ]; then printf '\035' >&5; else printf '\035' >&6; fi
	fi
	while kill -0 $_p 2>/dev/null; do
		if [ $_j = $(($2 * 10)) ]; then
			echo "oracle: $SIDE: console session $1 still runs after $2 s; ^]"
			if [ "$1" = a ]; then printf '\035' >&5; else printf '\035' >&6; fi
		fi
		[ $_j -lt $(($2 * 20)) ] || { kill $_p; break; }
		sleep 0.1
		_j=$((_j + 1))
	done
	wait $_p 2>/dev/null || true
	if [ "$1" = a ]; then exec 5>&-; else exec 6>&-; fi
}
# con_section SECTION ID: session ID's transcript into console.txt: virsh's first two lines,
# then from the guest's answer on (what virsh printed when it ended), blank lines and
# script(1)'s footer aside
con_section() {
	{
		echo "@@@ $1"
		tr -d '\r' <$TMPD/oracle-con-$2.out | awk '/^Script (started|done) on / { next } /^(Connected to domain|Escape character)/ { print; next } /DOMU-ECHO oracle-con-/ { on = 1; sub(/^.*DOMU-ECHO/, "DOMU-ECHO") } on && NF' 
	} >>"$OD/console.txt"
	rm -f $TMPD/oracle-con-$2.in $TMPD/oracle-con-$2.out
}
# keep_image: vx-pv's managed save image, linked as $TMPD/oracle-xchg-SIDE.save, stays for
# the other daemon to read and restore (area_xchg_in), sparse: only the guest's pages that are
# not zero (about half) take room in dom0's root tmpfs, which has room for one whole image
# beside what the session has there, not for two (ENOSPC: libxl's saves, xenstored, userdata)
keep_image() {
	_k=$TMPD/oracle-xchg-$SIDE.save
	[ -f "$_k" ] || return 0
	if [ -s "$_k" ] && $XT/vxoracle sparse "$_k"; then
		echo "oracle: $SIDE: save image kept for the other daemon ($(du -k "$_k" | cut -f1) KiB in use)"
	else
		echo "oracle: $SIDE: the managed save image could not be kept"
		rm -f "$_k"
	fi
}
