#!/bin/bash
# demo.sh: rolling replication master M -> R1 -> R2 on generated stores.
#
# Makes a master store M and two empty replicas, starts one rolling consumer
# per sync log (M.log feeds R1, R1.log feeds R2), changes M while they run,
# logging each change as a mail server would, waits until both logs are
# drained, stops the consumers and checks that the three stores agree.
#
# Environment: DEMO_DIR (work there instead of a temporary directory, and
# keep it), KEEP=1 (keep the temporary directory), DEMO_SEED.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
PATH=$top/bin:$PATH
export PATH LC_ALL=C

seed=${DEMO_SEED:-1}
changes=0
pids=()
status=1

for p in syncpipe-gen synclog-tail sync-diff sync-send sync-apply sync-relog
do
	if [ ! -x "$top/bin/$p" ]; then
		echo "demo: $top/bin/$p is not built (run make)" >&2
		exit 69
	fi
done

if [ -n "${DEMO_DIR:-}" ]; then
	dir=$DEMO_DIR
	mkdir -p "$dir" || exit 73
	rm -rf "$dir/M" "$dir/R1" "$dir/R2" "$dir"/*.log* "$dir"/*.err
else
	dir=$(mktemp -d "${TMPDIR:-/tmp}/syncpipe-demo.XXXXXX") || exit 73
fi
cd "$dir" || exit 73

# Whatever happens, no consumer outlives the demo.
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	wait 2>/dev/null
	if [ "$status" -eq 0 ] && [ -z "${DEMO_DIR:-}" ] &&
	    [ -z "${KEEP:-}" ]; then
		rm -rf "$dir"
	elif [ "$status" -ne 0 ]; then
		echo "demo: left everything in $dir" >&2
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

fail() {
	echo "demo: $*" >&2
	local f
	for f in consumer-M.err consumer-R1.err; do
		[ -s "$f" ] || continue
		echo "--- last lines of $f" >&2
		tail -n 15 "$f" >&2
	done
	exit 1
}

# log ENTRY...: appends entries to the master's sync log, one per argument.
log() {
	printf '%s\n' "$@" | sync-relog M.log || fail "sync-relog M.log failed"
	changes=$((changes + $#))
}

count_messages() {
	find "$1" -path '*/tmp' -prune -o -type f \( -path '*/cur/*' \
	    -o -path '*/new/*' \) -print | wc -l
}

count_bytes() {
	find "$1" -path '*/tmp' -prune -o -type f \( -path '*/cur/*' \
	    -o -path '*/new/*' \) -printf '%s\n' | awk '{n += $1} END {print n+0}'
}

# What must be equal in every store, whatever each side's own numbering
# and file format: each message by base name with its flags, keyword names,
# size and mtime (cur/ and new/ alike), the set of subscriptions, the text
# of each Sieve script and which one is active.
store_listing() {
	(
		cd "$1" || exit 1
		# .syncpipe/ holds what a replica keeps aside (the attic)
		find . \( -path '*/tmp' -o -path ./.syncpipe \) -prune -o \
		    -type f \( -path '*/cur/*' -o -path '*/new/*' \) \
		    -printf '%h\t%f\t%s\t%T@\n' |
		    awk -F '\t' -f "$top/share/demo-messages.awk"
		find . -path ./.syncpipe -prune -o -name subscriptions -print |
		while read -r f; do
			printf '%s %s\n' "$f" "$(sed '1{/^V\t2$/d}; /^$/d;
			    s/\t/./g' "$f" | sort | tr '\n' ' ')"
		done
		find . -path ./.syncpipe -prune -o -path '*/sieve/*.sieve' -print |
		while read -r f; do
			printf '%s %s\n' "$f" "$(sha256sum < "$f")"
		done
		find . -path ./.syncpipe -prune -o -name .dovecot.sieve \
		    -printf '%p -> %l\n'
	) | sort
}

start=$(date +%s.%N)

# The master: two plain users and one in a domain, then empty replicas.
syncpipe-gen --seed "$seed" --users 2 --folders 6 --messages 12 M ||
    fail "syncpipe-gen failed"
syncpipe-gen --seed "$((seed + 1))" --users 1 --folders 4 --messages 10 \
    --domain example.com M || fail "syncpipe-gen failed"
mkdir R1 R2
log "USER user1" "USER user2" "USER fred@example.com"
changes=0

# The two rolling consumers: M.log feeds R1, whose applied entries feed
# R1.log, which feeds R2.
to_r1='sync-diff M R1 | sync-send M | sync-apply R1 | sync-relog -F R1.log'
to_r2='sync-diff R1 R2 | sync-send R1 | sync-apply R2 | sync-relog -F R2.log'
synclog-tail --consume --follow --interval 0.2 M.log --exec "$to_r1" \
    2> consumer-M.err &
pids+=($!)
synclog-tail --consume --follow --interval 0.2 R1.log --exec "$to_r2" \
    2> consumer-R1.err &
pids+=($!)

# Changes on the master while the replicas catch up.
nap() { sleep 0.3; }

# deliver N USER [FOLDER]: new mail, as a delivery agent leaves it.
deliver() {
	syncpipe-gen --deliver "$1" --user "$2" ${3:+--folder "$3"} M ||
	    fail "syncpipe-gen --deliver failed"
}

deliver 3 user1
log "MAILBOX user.user1"
nap
deliver 2 user2 Work.Projects
log "MAILBOX user.user2.Work.Projects"
deliver 2 fred@example.com
log "MAILBOX example.com!user.fred"
nap

# A flag change: toggle \Flagged on the first message of user1's INBOX.
cur=M/user1/Maildir/cur
f=$(ls "$cur" | head -n 1)
flags=${f#*:2,}
case $flags in
*F*)	new=${flags//F/} ;;
*)	new=$(printf '%sF' "$flags" | fold -w1 | sort | tr -d '\n') ;;
esac
mv "$cur/$f" "$cur/${f%%:2,*}:2,$new" || fail "cannot change flags"
log "MAILBOX user.user1"
nap

# An expunge.
f=$(ls M/user2/Maildir/.Archive/cur | head -n 1)
rm "M/user2/Maildir/.Archive/cur/$f" || fail "cannot expunge"
log "MAILBOX user.user2.Archive"
nap

# A new folder, subscribed, with mail in it.
nf=M/user1/Maildir/.Projects.New
mkdir -p "$nf/cur" "$nf/new" "$nf/tmp" && : > "$nf/maildirfolder" ||
    fail "cannot make a folder"
deliver 2 user1 Projects.New
printf 'Projects\tNew\n' >> M/user1/Maildir/subscriptions
log "MAILBOX user.user1.Projects.New" "SUB user1 user.user1.Projects.New"
nap

# A deleted folder.
rm -rf M/user2/Maildir/.Trash || fail "cannot delete a folder"
log "UNMAILBOX user.user2.Trash"
nap

# A Sieve change.
printf '\nif header :contains "Subject" "[urgent]" {\n\tkeep;\n}\n' \
    >> M/user1/sieve/main.sieve || fail "cannot change a Sieve script"
log "SIEVE user1"

# A burst of deliveries, one entry each.
for i in 1 2 3 4 5; do
	deliver 1 user1
	log "MAILBOX user.user1"
	sleep 0.1
done

# Wait until both logs are drained.
deadline=$(($(date +%s) + 120))
while [ -e M.log ] || [ -e M.log-run ] || [ -e R1.log ] ||
    [ -e R1.log-run ]; do
	for p in "${pids[@]}"; do
		kill -0 "$p" 2>/dev/null || fail "a consumer stopped early"
	done
	[ "$(date +%s)" -lt "$deadline" ] ||
	    fail "the logs were not drained within 120 seconds"
	sleep 0.2
done

# Stop the consumers at a batch boundary; they exit 0.
for p in "${pids[@]}"; do
	kill -TERM "$p"
done
for p in "${pids[@]}"; do
	wait "$p" || fail "a consumer exited with status $? on SIGTERM"
done
pids=()
end=$(date +%s.%N)

# The verdict, by sync-diff and by an independent listing.
sync-diff --all --exit-code M R1 > diff-M-R1 ||
    fail "M and R1 differ (sync-diff status $?), see $dir/diff-M-R1"
sync-diff --all --exit-code R1 R2 > diff-R1-R2 ||
    fail "R1 and R2 differ (sync-diff status $?), see $dir/diff-R1-R2"
store_listing M > M.list
store_listing R1 > R1.list
store_listing R2 > R2.list
cmp -s M.list R1.list ||
    fail "M and R1 hold different files, see diff $dir/M.list $dir/R1.list"
cmp -s R1.list R2.list ||
    fail "R1 and R2 hold different files, see diff $dir/R1.list $dir/R2.list"

users=$(find M -mindepth 2 -maxdepth 3 -type d -name Maildir | wc -l)
mailboxes=$(find M -type d -name cur | wc -l)
messages=$(count_messages R2)
bytes=$(count_bytes R2)
echo "syncpipe demo: master M -> replica R1 -> replica R2"
if [ -n "${DEMO_DIR:-}${KEEP:-}" ]; then
	printf '  stores:     %s/{M,R1,R2}\n' "$dir"
fi
printf '  users:      %s\n' "$users"
printf '  mailboxes:  %s\n' "$mailboxes"
printf '  messages:   %s (%s bytes) replicated to each replica\n' \
    "$messages" "$bytes"
printf '  changes:    %s logged on the master while replicating\n' "$changes"
awk -v a="$start" -v b="$end" \
    'BEGIN { printf "  time:       %.1f seconds\n", b - a }'
echo "master = R1 = R2: identical"
status=0
