#!/bin/bash
# run.sh: the benchmark behind `make bench`; see docs/performance.md.
#
# Measures, in one run and side by side: a full copy of the corpus (syncpipe
# through a pipe and through a local endpoint, tar | tar, rsync, doveadm
# backup), an incremental pass in a store of 100,000 messages, the rolling
# lag under a steady load, and how a batch and a full copy scale.  Every
# figure is the median of BENCH_REPS runs with their min and max.  The
# table goes to stdout and to bench/results.md; progress goes to stderr.
#
# Environment: BENCH_REPS (3), BENCH_DOVEADM_REPS (1), BENCH_CORPUS (the
# shared real-maildir.tar.xz; a generated store when it is absent),
# BENCH_DIR (/var/tmp: where the scratch directory goes), BENCH_LOOP (auto:
# as root, a fresh journalled ext4 image is mounted there; 0: never),
# BENCH_LAG_RATE (10 messages a second), BENCH_LAG_SECS (20),
# BENCH_DOVEADM (1; 0 leaves doveadm out), BENCH_OUT (bench/results.md).
set -u
export LC_ALL=C

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$HERE")
export PATH="$TOP/bin:$PATH"
REPS=${BENCH_REPS:-3}
DV_REPS=${BENCH_DOVEADM_REPS:-1}
CORPUS=${BENCH_CORPUS:-$TOP/../shared/corpus/real-maildir.tar.xz}
SCRATCH=${BENCH_DIR:-/var/tmp}
LOOP=${BENCH_LOOP:-auto}
LAG_RATE=${BENCH_LAG_RATE:-10}
LAG_SECS=${BENCH_LAG_SECS:-20}
OUT=${BENCH_OUT:-$HERE/results.md}
START=$(date +%s)

say() { printf 'bench: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }

for p in sync-diff sync-send sync-apply synclog-tail sync-relog syncpipe-gen; do
	[ -x "$TOP/bin/$p" ] || fail "bin/$p missing: run make first"
done
for p in /usr/bin/time rsync tar perl; do
	command -v "$p" >/dev/null || fail "$p not found (share/deps.sh bench)"
done

# Scratch space, and as root a journalled ext4 of its own, so that the
# figures do not depend on what the host's file system went through.
W=$(mktemp -d "$SCRATCH/syncpipe-bench.XXXXXX") || fail "cannot create a directory in $SCRATCH"
chmod 755 "$W"		# doveadm runs as another user
MNT=
CONSUMER=
cleanup() {
	if [ -n "$CONSUMER" ]; then
		kill "$CONSUMER" 2>/dev/null
		wait "$CONSUMER" 2>/dev/null
	fi
	cd /
	[ -n "$MNT" ] && umount "$MNT"
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
HOSTFS=$(findmnt -n -o FSTYPE -T "$SCRATCH" 2>/dev/null) ||
    HOSTFS=$(command stat -f -c %T "$SCRATCH")
if [ "$LOOP" != 0 ] && [ "$(id -u)" = 0 ] && command -v mkfs.ext4 >/dev/null; then
	if truncate -s 24G "$W/fs.img" && mkfs.ext4 -q -F "$W/fs.img" &&
	    mkdir "$W/mnt" && mount -o loop "$W/fs.img" "$W/mnt"; then
		MNT=$W/mnt
	elif [ "$LOOP" = 1 ]; then
		fail "cannot mount a scratch ext4 image"
	fi
fi
D=${MNT:-$W}
if [ -n "$MNT" ]; then
	FSDESC="ext4 with its journal (default mkfs.ext4), a loop-mounted image file on the host's $HOSTFS"
else
	FSDESC="$HOSTFS ($SCRATCH)"
fi
mkdir -p "$D/tools" "$D/r" "$D/t" "$D/bin"
# The programs are copied first: a run measures one build from start to
# end, even if bin/ is rebuilt meanwhile.
for p in sync-diff sync-send sync-apply synclog-tail sync-relog syncpipe-gen; do
	cp -p "$TOP/bin/$p" "$D/bin/" || fail "cannot copy bin/$p"
done
export PATH="$D/bin:$PATH"
BUILD=$(git -C "$TOP" describe --always --dirty 2>/dev/null) || BUILD=unknown
RAW=$W/raw.tsv
REPORT=$W/report.md
: > "$RAW"

# T NAME PROG ARGS: run PROG under GNU time into $TD/time/NAME (elapsed,
# user, system, peak RSS in KiB, file system outputs in 512-byte blocks).
cat > "$D/tools/T" <<'EOF'
#!/bin/sh
n=$1; shift
exec /usr/bin/time -q -o "$TD/time/$n" -f '%e %U %S %M %O' "$@"
EOF
chmod +x "$D/tools/T"
export PATH="$D/tools:$PATH"

rec() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$RAW"; }

# children_ms FILE: the CPU time (user + system, ms) of every child this shell
# had waited for, from the output of the builtin times in FILE (run in
# this shell, not in a subshell, whose children are its own).
children_ms() {
	tail -n 1 "$1" | tr 'ms' '  ' |
	    awk '{ printf("%d\n", ($1 * 60 + $2 + $3 * 60 + $4) * 1000) }'
}

# measure KEY CMD: runs CMD with sh after a sync, then sync again; notes
# the wall time of both (ms), the CPU time of every process of CMD (ms),
# the peak RSS of each program run under T and the bytes they wrote.
measure() {
	local key=$1 cmd=$2 t0 t1 c0 c1 f n e u s m o wr=0
	export TD="$D/t/$key.$REP"
	mkdir -p "$TD/time"
	sync
	t0=$(date +%s%N)
	times > "$W/times"
	sh -c "$cmd" || fail "$key: failed: $cmd"
	times > "$W/times.1"
	sync
	t1=$(date +%s%N)
	c0=$(children_ms "$W/times")
	c1=$(children_ms "$W/times.1")
	rec "$key" wall $(( (t1 - t0) / 1000000 ))
	for f in "$TD"/time/*; do
		[ -f "$f" ] || continue
		n=${f##*/}
		read -r e u s m o < <(tail -n 1 "$f")
		wr=$(( wr + o * 512 ))
		rec "$key" "rss:$n" "$m"
	done
	rec "$key" cpu $(( c1 - c0 ))
	rec "$key" written "$wr"
	CMDS="$CMDS$key	$cmd
"
}
CMDS=

# fig KEY METRIC SCALE DECIMALS: "median (min-max)" of the figures noted,
# divided by SCALE.
fig() {
	awk -F '\t' -v k="$1" -v m="$2" -v sc="$3" -v d="$4" '
	$1 == k && $2 == m { v[n++] = $3 / sc }
	END {
		if (n == 0) { print "-"; exit }
		for (i = 0; i < n; i++) for (j = i + 1; j < n; j++)
			if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		med = n % 2 ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2
		f = "%." d "f"
		if (n == 1) printf(f, med)
		else printf(f " (" f "-" f ")", med, v[0], v[n - 1])
	}' "$RAW"
}
# med KEY METRIC: the bare median, unscaled.
med() {
	awk -F '\t' -v k="$1" -v m="$2" '
	$1 == k && $2 == m { v[n++] = $3 }
	END {
		if (n == 0) { print 0; exit }
		for (i = 0; i < n; i++) for (j = i + 1; j < n; j++)
			if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		print n % 2 ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2
	}' "$RAW"
}
# rss KEY: "prog MiB, prog MiB" (medians).
rss() {
	local m
	for m in $(awk -F '\t' -v k="$1" '$1 == k && $2 ~ /^rss:/ { print $2 }' "$RAW" | sort -u); do
		printf '%s %s MiB; ' "${m#rss:}" "$(fig "$1" "$m" 1024 1 | sed 's/ (.*//')"
	done | sed 's/; $//'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf("%.2f", a / b); else print "-" }'; }
show() { printf '%s' "$1" | sed -e 's/T [^ ]* //g' -e 's/ *>"\$TD\/[a-z]*"//'; }
elapsed() { echo $(( $(date +%s) - START ))s; }

# --- The corpus --------------------------------------------------------

mkdir -p "$D/src"
if [ -f "$CORPUS" ]; then
	say "unpacking $CORPUS ($(elapsed))"
	tar -C "$D/src" --warning=no-timestamp -xJf "$CORPUS" ||
	    fail "cannot unpack $CORPUS"
	CORPUS_DESC="the real corpus ($(basename "$CORPUS"))"
else
	say "no corpus at $CORPUS: generating a store"
	syncpipe-gen -q --seed 1 --users 10 --folders 4 --messages 250 \
	    "$D/src/gen" || fail "syncpipe-gen failed"
	CORPUS_DESC="a store made by syncpipe-gen --seed 1 --users 10 --folders 4 --messages 250 (no corpus at $CORPUS)"
fi
find "$D/src" -type f \( -path '*/cur/*' -o -path '*/new/*' \) | sort > "$D/pool"
NMSG=$(wc -l < "$D/pool")
[ "$NMSG" -ge 100 ] || fail "only $NMSG messages in the corpus"

# M: one user whose INBOX holds every message of the corpus.
export M="$D/m"
perl "$HERE/mkstore.pl" "$D/pool" "$M" 1 1 "$NMSG" link || fail "mkstore failed"
sync-diff --all "$M" /dev/null > /dev/null || fail "sync-diff could not give UIDs"
MBYTES=$(du -sb "$M" | cut -f1)

# --- doveadm backup ----------------------------------------------------

DV=
if [ "${BENCH_DOVEADM:-1}" != 0 ] && command -v doveadm >/dev/null; then
	DV=$(dpkg-query -W -f '${Version}' dovecot-core 2>/dev/null) || DV=installed
	mkdir -p "$D/dv/run" "$D/dv/state" "$D/dv/log"
	if [ "$(id -u)" = 0 ]; then
		DV_UID=$(id -u nobody) DV_GID=$(id -g nobody)
		DV_USER=nobody DV_GROUP=$(id -gn nobody)
		DV_RUN="setpriv --reuid=$DV_UID --regid=$DV_GID --clear-groups"
	else
		DV_UID=$(id -u) DV_GID=$(id -g) DV_USER=$(id -un) DV_GROUP=$(id -gn)
		DV_RUN=
	fi
	export DV_OWNER="$DV_UID:$DV_GID"
	# A Dovecot that exists only for doveadm: no service is started;
	# the user is taken from HOME and USER, not looked up.
	cat > "$D/dv/dovecot.conf" <<EOF
base_dir = $D/dv/run
state_dir = $D/dv/state
log_path = $D/dv/log/dovecot.log
instance_name = syncpipe-bench
protocols =
ssl = no
default_internal_user = $DV_USER
default_internal_group = $DV_GROUP
first_valid_uid = $DV_UID
passdb {
  driver = static
  args = password=unused
}
userdb {
  driver = static
  args = uid=$DV_UID gid=$DV_GID home=$D/dv/home/%n
}
mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  separator = /
}
EOF
	chown -R "$DV_OWNER" "$D/dv"
	# dv-backup HOME USER DEST: one user's mail to DEST/USER/Maildir.
	cat > "$D/tools/dv-backup" <<EOF
#!/bin/sh
exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="\$1" USER="\$2" \\
    $DV_RUN doveadm -c $D/dv/dovecot.conf backup "maildir:\$3/\$2/Maildir"
EOF
	chmod +x "$D/tools/dv-backup"
fi

# dv_master SRC DEST: a copy of a master for Dovecot alone (it writes its
# index files and may rename messages): hard links, but a dovecot-uidlist
# of its own, and directories it may write.
dv_master() {
	cp -al "$1" "$2" || fail "cp -al $1 failed"
	find "$2" -name dovecot-uidlist -exec sh -c \
	    'for f; do cp "$f" "$f.x" && mv "$f.x" "$f"; done' sh {} +
	find "$2" \( -type d -o -name dovecot-uidlist \) -exec chown "$DV_OWNER" {} +
}

# --- 1. Full copy ------------------------------------------------------

FULL_CASES="pipe local tar rsync rsync-fsync"
cmd_pipe='T sync-diff sync-diff --all "$M" "$R" | T sync-send sync-send "$M" | T sync-apply sync-apply "$R" >/dev/null'
cmd_local='T sync-diff sync-diff --all "$M" "$R" | T sync-send+apply sync-send "$M" "$R" >/dev/null'
cmd_tar='mkdir "$R" && T tar-c tar -C "$M" -cf - . | T tar-x tar -C "$R" --warning=no-timestamp -xf -'
cmd_rsync='T rsync rsync -a --stats "$M/" "$R/" >"$TD/stats"'
cmd_rsync_fsync='T rsync rsync -a --fsync --stats "$M/" "$R/" >"$TD/stats"'
cmd_doveadm='mkdir "$R" && chown "$DV_OWNER" "$R" && T doveadm dv-backup "$MDV/u000" u000 "$R"'
if [ -n "$DV" ]; then
	export MDV="$D/mdv"
	dv_master "$M" "$MDV"
	say "indexing the master for doveadm (untimed) ($(elapsed))"
	mkdir "$D/r/dv-warm" && chown "$DV_OWNER" "$D/r/dv-warm" &&
	    dv-backup "$MDV/u000" u000 "$D/r/dv-warm" || fail "doveadm backup failed"
fi

# rotate FIRST WORDS...: the words, starting at the FIRST-th (from 1).
rotate() {
	local k=$1; shift
	local a=("$@") i
	for i in "${!a[@]}"; do printf '%s ' "${a[(i + k - 1) % ${#a[@]}]}"; done
}
say "reading the master once (untimed) ($(elapsed))"
tar -C "$M" -cf - . | cat > /dev/null
for REP in $(seq 1 "$REPS"); do
	for c in $(rotate "$REP" $FULL_CASES) doveadm; do
		[ "$c" = doveadm ] && { [ -z "$DV" ] || [ "$REP" -gt "$DV_REPS" ]; } && continue
		say "full copy: $c, run $REP of $REPS ($(elapsed))"
		export R="$D/r/full-$c-$REP"
		v=cmd_${c//-/_}
		measure "full-$c" "${!v}"
		if [ "$REP" = 1 ] && [ "$c" != doveadm ]; then
			sync-diff --all --exit-code "$M" "$R" > /dev/null ||
			    fail "full-$c: the replica differs from the master"
		elif [ "$REP" = 1 ]; then
			n=$(find "$R/u000/Maildir/cur" -type f | wc -l)
			[ "$n" = "$NMSG" ] || fail "doveadm: $n messages of $NMSG"
		fi
	done
done
# The bytes that go through the pipe (measured apart, untimed).
BUNDLE=$(sync-diff --all "$M" /dev/null | sync-send "$M" | wc -c)
TARB=$(tar -C "$M" -cf - . | wc -c)
RSYNCB=$(sed -n 's/^Total bytes sent: //p' "$D/t/full-rsync.1/stats" | tr -d ,)

# --- 2. Incremental pass in a store of 100,000 messages ---------------

# S_n: n hundred-message mailboxes, 10 a user, hard links to the corpus.
build() {
	perl "$HERE/mkstore.pl" "$D/pool" "$1" "$2" 10 100 link ||
	    fail "mkstore $1 failed"
	sync-diff --all "$1" /dev/null > /dev/null || fail "UIDs for $1"
	cp -al "$1" "$3" || fail "cp -al $1"
}
say "building stores of 1,000, 10,000 and 100,000 messages ($(elapsed))"
build "$D/s1k" 1 "$D/r/s1k"
build "$D/s10k" 10 "$D/r/s10k"
build "$D/s100k" 100 "$D/r/s100k"
cp -al "$D/s100k" "$D/r/s100k-rsync"
BOX=u000/Maildir/.f03
BOXNAME=user.u000.f03
if [ -n "$DV" ]; then
	dv_master "$D/s100k" "$D/mdv100k"
	mkdir "$D/r/s100k-dv" && chown "$DV_OWNER" "$D/r/s100k-dv"
	dv_master "$D/r/s100k/u000" "$D/r/s100k-dv/u000"
	dv-backup "$D/mdv100k/u000" u000 "$D/r/s100k-dv" ||
	    fail "doveadm backup (first pass) failed"
fi

# mutate STORE REP [STORE...]: in mailbox $BOX of every STORE, one flag
# change, one delivery and one expunge; the messages are chosen in the
# first STORE and found by base name in the others.
mutate() {
	local s=$1 rep=$2 fl ff xf base fb xb nb new st
	shift 2
	ff=$(ls "$s/$BOX/cur" | sed -n "$((rep + 1))p")
	xf=$(ls "$s/$BOX/cur" | sed -n "$((rep + 40))p")
	fb=${ff%%:2,*} xb=${xf%%:2,*}
	fl=${ff##*:2,}
	case $fl in
	*F*) fl=$(printf '%s' "$fl" | tr -d F) ;;
	*) fl=$(printf '%sF' "$fl" | fold -w1 | sort | tr -d '\n') ;;
	esac
	nb="$(date +%s).M${rep}P$$Q$RANDOM.bench"
	for st in "$s" "$@"; do
		for f in "$st/$BOX"/cur/"$fb":* "$st/$BOX"/new/"$fb"; do
			[ -e "$f" ] && mv "$f" "$st/$BOX/cur/$fb:2,$fl"
		done
		rm -f "$st/$BOX"/cur/"$xb":* "$st/$BOX"/new/"$xb"
		cp "$(sed -n "$((rep * 7 + 1))p" "$D/pool")" "$st/$BOX/tmp/$nb"
		mv "$st/$BOX/tmp/$nb" "$st/$BOX/new/$nb"
	done
	printf 'MAILBOX %s\nAPPEND %s\n' "$BOXNAME" "$BOXNAME" |
	    sync-relog "$LOG" || fail "sync-relog failed"
}

cmd_batch='synclog-tail -q --consume "$LOG" --exec '"'"'T sync-diff sync-diff "$M" "$R" | T sync-send sync-send "$M" | T sync-apply sync-apply "$R" >/dev/null'"'"
cmd_inc_rsync='T rsync rsync -a --delete --stats "$M/" "$R/" >"$TD/stats"'
cmd_inc_doveadm='T doveadm dv-backup "$MDV/u000" u000 "$R"'
export LOG="$D/log"
for REP in $(seq 1 "$REPS"); do
	say "incremental: run $REP of $REPS ($(elapsed))"
	if [ -n "$DV" ]; then
		mutate "$D/s100k" "$REP" "$D/mdv100k"
	else
		mutate "$D/s100k" "$REP"
	fi
	measure inc-sync 'true'
	export M="$D/s100k" R="$D/r/s100k"
	rec inc-syncpipe bytes "$(synclog-tail "$LOG" | sync-diff "$M" "$R" | sync-send "$M" | wc -c)"
	measure inc-syncpipe "$cmd_batch"
	sync-diff -m "$BOXNAME" --exit-code "$M" "$R" > /dev/null ||
	    fail "incremental: the replica differs"
	R="$D/r/s100k-rsync"
	measure inc-rsync "$cmd_inc_rsync"
	rec inc-rsync bytes "$(sed -n 's/^Total bytes sent: //p' "$TD/stats" | tr -d ,)"
	if [ -n "$DV" ]; then
		export MDV="$D/mdv100k" R="$D/r/s100k-dv"
		measure inc-doveadm "$cmd_inc_doveadm"
	fi
done
export M="$D/m"

# --- 3. Rolling lag ----------------------------------------------------

for u in $(seq 0 99); do
	for f in $(seq 0 9); do
		if [ "$f" = 0 ]; then
			printf 'u%03d/Maildir\tuser.u%03d\n' "$u" "$u"
		else
			printf 'u%03d/Maildir/.f%02d\tuser.u%03d.f%02d\n' "$u" "$f" "$u" "$f"
		fi
	done
done | awk 'NR % 7 == 3' > "$D/lagboxes"
cmd_follow='synclog-tail --consume --follow "$LLOG" --exec '"'"'sync-diff "$M" "$R" | sync-send "$M" | sync-apply "$R" >/dev/null'"'"
for REP in $(seq 1 "$REPS"); do
	say "rolling lag: run $REP of $REPS, $LAG_RATE/s for ${LAG_SECS}s ($(elapsed))"
	export M="$D/s100k" R="$D/r/s100k" LLOG="$D/lag.log"
	synclog-tail --consume --follow "$LLOG" --exec \
	    'sync-diff "$M" "$R" | sync-send "$M" | sync-apply "$R" >/dev/null' \
	    2> "$D/lag-consumer.$REP" &
	CONSUMER=$!
	perl "$HERE/lag.pl" "$M" "$R" "$LLOG" "$LAG_RATE" "$LAG_SECS" \
	    "$D/lagboxes" "$D/lag.$REP" || fail "lag.pl failed"
	kill -TERM "$CONSUMER"
	wait "$CONSUMER"
	CONSUMER=
	sort -n "$D/lag.$REP" | awk -v k=lag '
	/lost/ { lost++; next }
	{ v[n++] = $1 }
	END {
		printf("%s\tmedian\t%s\n", k, n ? v[int((n - 1) / 2)] : 0)
		i = int(n * 0.99 + 0.999) - 1; if (i < 0) i = 0
		printf("%s\tp99\t%s\n", k, n ? v[i] : 0)
		printf("%s\tmax\t%s\n", k, n ? v[n - 1] : 0)
		printf("%s\tseen\t%d\n%s\tlost\t%d\n", k, n, k, lost)
	}' >> "$RAW"
	grep -o 'batch: [0-9]* entries, [0-9]* objects, [0-9.]*s' "$D/lag-consumer.$REP" |
	    awk '{ printf("lag\tbatch-entries\t%s\nlag\tbatch-s\t%s\n", $2, $6 + 0) }' >> "$RAW"
done
sync-diff --all --exit-code "$D/s100k" "$D/r/s100k" > /dev/null ||
    fail "rolling lag: the replica differs from the master at the end"

# --- 4. Scaling --------------------------------------------------------

for REP in $(seq 1 "$REPS"); do
	for n in 1k 10k 100k; do
		say "scaling: a batch in the store of $n, run $REP ($(elapsed))"
		mutate "$D/s$n" $((REP + 10))
		export M="$D/s$n" R="$D/r/s$n"
		measure "batch-$n" "$cmd_batch"
	done
done
half=$((NMSG / 2)) quarter=$((NMSG / 4))
awk 'NR % 4 == 1' "$D/pool" > "$D/pool25"
awk 'NR % 2 == 1' "$D/pool" > "$D/pool50"
perl "$HERE/mkstore.pl" "$D/pool25" "$D/m25" 1 1 "$quarter" link &&
    perl "$HERE/mkstore.pl" "$D/pool50" "$D/m50" 1 1 "$half" link ||
    fail "mkstore failed"
sync-diff --all "$D/m25" /dev/null > /dev/null &&
    sync-diff --all "$D/m50" /dev/null > /dev/null || fail "UIDs failed"
for REP in $(seq 1 "$REPS"); do
	for p in 25 50; do
		say "scaling: full copy of ${p}%, run $REP ($(elapsed))"
		export M="$D/m$p" R="$D/r/m$p-pipe-$REP"
		measure "grow-$p-pipe" "$cmd_pipe"
		R="$D/r/m$p-tar-$REP"
		measure "grow-$p-tar" "$cmd_tar"
	done
done
M25B=$(du -sb "$D/m25" | cut -f1) M50B=$(du -sb "$D/m50" | cut -f1)

# --- The report --------------------------------------------------------

say "writing the report ($(elapsed))"
s() { fig "$1" wall 1000 2; }
cpu() { fig "$1" cpu 1000 2; }
mb() { awk -v b="$1" 'BEGIN { if (b == "") print "-"; else printf("%.1f MB", b / 1e6) }'; }
FLOOR=$(med full-tar wall)
{
printf '# syncpipe benchmark results\n\n'
printf 'Written by `make bench` (bench/run.sh); see docs/performance.md for\n'
printf 'what the figures mean and where the time goes.\n\n'
printf '## Machine\n\n'
printf -- '- date: %s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
printf -- '- host: %s, %s CPUs (%s), %s MiB of memory\n' "$(uname -srm)" "$(nproc)" \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
    "$(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo)"
printf -- '- file system: %s\n' "$FSDESC"
printf -- '- syncpipe %s (tree %s); %s; %s; dovecot %s\n' "$(sync-diff -V 2>&1 | head -n 1)" "$BUILD" \
    "$(tar --version | head -n 1)" "$(rsync --version | head -n 1 | sed -e 's/  protocol.*//' -e 's/  */ /g')" "${DV:-not installed}"
printf -- '- data: %s: %s messages, %s bytes\n' "$CORPUS_DESC" "$NMSG" "$MBYTES"
printf -- '- every figure: median (min-max) of %s runs, page cache warm (the\n  master was read before), wall time including the `sync` that follows\n' "$REPS"
printf -- '- total run time: %s\n\n' "$(elapsed)"

printf '## 1. Full copy to an empty replica\n\n'
printf 'fsync policy: sync-apply stages every body, makes them durable with\n'
printf 'one syncfs() and then fsyncs each mailbox'"'"'s cur/ and new uidlist;\n'
printf '`rsync --fsync` fsyncs every file; doveadm fsyncs as Dovecot does by\n'
printf 'default (`mail_fsync = optimized`); tar and plain rsync do not fsync.\n'
printf 'Every command is followed by `sync`, inside the time, so that every\n'
printf 'row ends with the data on disk.\n\n'
printf '| what | wall s | x floor | CPU s | peak RSS | stream | written |\n'
printf '|---|---|---|---|---|---|---|\n'
for c in $FULL_CASES doveadm; do
	[ "$c" = doveadm ] && [ -z "$DV" ] && continue
	case $c in
	pipe) what='syncpipe, pipe' b=$(mb "$BUNDLE") ;;
	local) what='syncpipe, local endpoint' b=$(mb "$BUNDLE") ;;
	tar) what='tar \| tar + sync (floor)' b=$(mb "$TARB") ;;
	rsync) what='rsync -a' b=$(mb "$RSYNCB") ;;
	rsync-fsync) what='rsync -a --fsync' b='-' ;;
	doveadm) what="doveadm backup ($DV_REPS run)" b='in process' ;;
	esac
	printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$what" "$(s full-$c)" \
	    "$(ratio "$(med full-$c wall)" "$FLOOR")" "$(cpu full-$c)" \
	    "$(rss full-$c)" "$b" "$(mb "$(med full-$c written)")"
done
printf '\n"stream": bytes through the pipe (bundle, tar stream, rsync'"'"'s bytes\n'
printf 'sent); "written": bytes the programs wrote to the file system\n'
printf '(GNU time, file system outputs).\n\n'

printf '## 2. Incremental pass: one flag change, one delivery, one expunge\n\n'
printf 'Store: 100,000 messages in 1,000 mailboxes (100 users of 10), hard\n'
printf 'links to the corpus.  syncpipe is driven by the log (two entries for\n'
printf 'the one mailbox changed); rsync walks the whole tree; doveadm backup\n'
printf 'syncs the one user changed, as Dovecot'"'"'s replicator would.\n\n'
printf '| what | wall s | CPU s | peak RSS | bytes moved | rsync / this |\n'
printf '|---|---|---|---|---|---|\n'
for c in syncpipe rsync doveadm sync; do
	[ "$c" = doveadm ] && [ -z "$DV" ] && continue
	case $c in
	syncpipe) what='syncpipe (log -> diff \| send \| apply)' ;;
	rsync) what='rsync -a --delete, whole tree' ;;
	doveadm) what='doveadm backup, one user' ;;
	sync) what='`sync` alone (in every row)' ;;
	esac
	printf '| %s | %s | %s | %s | %s | %s |\n' "$what" "$(fig inc-$c wall 1000 3)" \
	    "$(fig inc-$c cpu 1000 3)" "$(rss inc-$c)" \
	    "$(fig inc-$c bytes 1 0)" \
	    "$(if [ "$c" = sync ] || [ "$c" = rsync ]; then echo -; else
		echo "wall $(ratio "$(med inc-rsync wall)" "$(med inc-$c wall)"), CPU $(ratio "$(med inc-rsync cpu)" "$(med inc-$c cpu)")"; fi)"
done
printf '\nBytes moved: syncpipe'"'"'s bundle, rsync'"'"'s bytes sent.  CPU: every\n'
printf 'process of the command (for syncpipe: synclog-tail, sh, the three\n'
printf 'programs), from the shell'"'"'s `times`.\n\n'

printf '## 3. Rolling lag\n\n'
printf '%s deliveries a second for %s s, each to another of %s mailboxes of\n' "$LAG_RATE" "$LAG_SECS" "$(wc -l < "$D/lagboxes")"
printf 'the 100,000-message store, each followed by an APPEND entry written\n'
printf 'with sync-relog; lag = from the entry written to the message'"'"'s file\n'
printf 'in the replica'"'"'s cur/ (polled every 2 ms).  Consumer at the default\n'
printf 'interval (1 s).\n\n'
printf '| median s | p99 s | max s | messages seen / lost | entries a batch | seconds a batch |\n'
printf '|---|---|---|---|---|---|\n'
printf '| %s | %s | %s | %s / %s | %s | %s |\n\n' "$(fig lag median 1 3)" \
    "$(fig lag p99 1 3)" "$(fig lag max 1 3)" "$(fig lag seen 1 0)" \
    "$(fig lag lost 1 0)" "$(fig lag batch-entries 1 0)" "$(fig lag batch-s 1 2)"
printf 'Each figure: median (min-max) over the %s runs; "entries" and\n' "$REPS"
printf '"seconds a batch" over every batch.\n\n'

printf '## 4. Scaling\n\n'
printf 'One batch (the change of part 2, in one mailbox) as the store grows:\n\n'
printf '| store | wall s | CPU s | peak RSS |\n|---|---|---|---|\n'
for n in 1k 10k 100k; do
	printf '| %s messages | %s | %s | %s |\n' "$n" "$(fig batch-$n wall 1000 3)" \
	    "$(fig batch-$n cpu 1000 3)" "$(rss batch-$n)"
done
printf '\nA full copy (pipe) as the corpus grows, against the tar | tar floor:\n\n'
printf '| corpus | messages | bytes | syncpipe wall s | s per 1,000 messages | floor wall s | x floor | peak RSS |\n'
printf '|---|---|---|---|---|---|---|---|\n'
for p in 25 50 100; do
	case $p in
	25) k=grow-25 b=$M25B n=$quarter ;;
	50) k=grow-50 b=$M50B n=$half ;;
	100) k=full b=$MBYTES n=$NMSG ;;
	esac
	printf '| %s%% | %s | %s | %s | %s | %s | %s | %s |\n' "$p" "$n" "$(mb "$b")" "$(s $k-pipe)" \
	    "$(awk -v w="$(med $k-pipe wall)" -v n="$n" 'BEGIN { printf("%.3f", w / n) }')" \
	    "$(s $k-tar)" "$(ratio "$(med $k-pipe wall)" "$(med $k-tar wall)")" "$(rss $k-pipe)"
done
printf '\n## Targets\n\n'
fl=$(ratio "$(med full-pipe wall)" "$FLOOR")
yn() { if awk "BEGIN { exit !($1) }"; then echo met; else echo MISSED; fi; }
printf -- '- full copy within 1.3x of the floor: %s (pipe %sx, local %sx)\n' \
    "$(yn "$fl <= 1.3")" "$fl" "$(ratio "$(med full-local wall)" "$FLOOR")"
printf -- '- full copy faster than rsync -a: pipe %s, local %s; than doveadm backup: %s\n' \
    "$(yn "$(med full-pipe wall) < $(med full-rsync wall)")" \
    "$(yn "$(med full-local wall) < $(med full-rsync wall)")" \
    "$( [ -n "$DV" ] && yn "$(med full-pipe wall) < $(med full-doveadm wall)" || echo 'not measured')"
r=$(ratio "$(med inc-rsync wall)" "$(med inc-syncpipe wall)")
rc=$(ratio "$(med inc-rsync cpu)" "$(med inc-syncpipe cpu)")
printf -- '- incremental 100x cheaper than rsync -a: in CPU %s (%sx), in wall time %s (%sx)\n' \
    "$(yn "$rc >= 100")" "$rc" "$(yn "$r >= 100")" "$r"
printf -- '- median lag under 1 s: %s (%s s)\n' "$(yn "$(med lag median) < 1")" "$(med lag median)"
a=$(med batch-1k rss:sync-diff) b=$(med batch-100k rss:sync-diff)
c=$(med batch-1k rss:sync-apply) d=$(med batch-100k rss:sync-apply)
printf -- '- memory flat from 1,000 to 100,000 messages: %s (sync-diff %s -> %s KiB, sync-apply %s -> %s KiB)\n' \
    "$(yn "$b <= $a * 1.2 + 1024 && $d <= $c * 1.2 + 1024")" "$a" "$b" "$c" "$d"
printf '\n## Commands\n\n'
printf 'M is the master, R the replica; `sync` follows each command.  In\n'
printf 'part 2 and 4, LOG holds the entries of the change; in part 3 LLOG is\n'
printf 'written by bench/lag.pl.  dv-backup HOME USER DEST runs, as the mail\n'
printf 'user, `env -i HOME=HOME USER=USER doveadm -c bench.conf backup\n'
printf 'maildir:DEST/USER/Maildir` with the configuration written by run.sh.\n\n'
printf '%s' "$CMDS" | sort -u -t '	' -k1,1 | while IFS='	' read -r k c; do
	printf -- '- %s: `%s`\n' "$k" "$(show "$c")"
done
printf -- '- lag consumer: `%s`\n' "$cmd_follow"
} > "$REPORT"
cat "$REPORT"
cp "$REPORT" "$OUT" || fail "cannot write $OUT"
say "done in $(elapsed); results in $OUT"
