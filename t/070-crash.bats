#!/usr/bin/env bats
# Crash safety of rolling replication: the consumer and its whole pipeline
# are killed with SIGKILL at random moments, hundreds of times, while the
# master changes and logs; every logged entry still reaches the replica, a
# leftover LOG-run goes first, and the replica ends equal to the master.

load helpers

KILLS=${SP_CRASH_KILLS:-300}

teardown() {
	[ -n "${writer:-}" ] && kill "$writer" 2>/dev/null
	[ -n "${pid:-}" ] && kill -TERM "$pid" 2>/dev/null
	return 0
}

# The test tools are built next to the objects of the flavour in bin/.
tool() {
	local objdir=build
	[ -e "$SP_BIN/.flavour-san" ] && objdir=build-san
	echo "$SP_TOP/$objdir/t/tools/$1"
}

# A uidlist lock whose holder was killed while writing the new uidlist into
# it names no process, so it only goes stale after Dovecot's two minutes.
# Nothing runs between two kills, so every such lock is stale: remove it
# rather than wait.  (A lock naming its dead holder is left for the store
# to find stale.)
clear_dead_locks() {
	local f
	find M R -name '*.lock' 2>/dev/null | while read -r f; do
		grep -qE '^[0-9]+:' "$f" 2>/dev/null || rm -f "$f"
	done
}

# The consumer's command: the batch is replicated to R, and only once that
# succeeded is it added to the record of what was handed on.
PIPE='f=$(mktemp batch.XXXXXX) && cat > "$f" &&
	sync-diff M R < "$f" | sync-send M | sync-apply R |
	    sync-relog -F R.log && cat "$f" >> record
	st=$?; rm -f "$f"; exit $st'

# change N: one random change on the master, logged as a mail server would:
# a delivery, a flag change (a rename of :2,FLAGS) or an expunge.
change() {
	local u=user$((RANDOM % 3 + 1)) box dir f
	case $((RANDOM % 3)) in
	0)	box=; dir=M/$u/Maildir ;;
	1)	box=.Archive; dir=M/$u/Maildir/.Archive ;;
	*)	box=.Sent; dir=M/$u/Maildir/.Sent ;;
	esac
	case $((RANDOM % 4)) in
	0|1)	syncpipe-gen --seed "$RANDOM" --deliver 1 --user "$u" \
		    ${box:+--folder "${box#.}"} M >/dev/null 2>&1 ;;
	2)	f=$(ls "$dir/cur" | head -n 1)
		[ -n "$f" ] || return 0
		case $f in
		*:2,*S*) mv "$dir/cur/$f" "$dir/cur/${f%%:2,*}:2," ;;
		*)	 mv "$dir/cur/$f" "$dir/cur/${f%%:2,*}:2,S" ;;
		esac ;;
	*)	f=$(ls "$dir/cur" | tail -n 1)
		[ -n "$f" ] && rm -f "$dir/cur/$f" ;;
	esac
	echo "MAILBOX user.$u${box}" | tee -a logged | sync-relog M.log
}

@test "crash: SIGKILL of the consumer and its pipeline loses no entry" {
	mkstore M --users 3 --folders 2 --messages 5
	mkdir R
	printf 'USER user1\nUSER user2\nUSER user3\n' | tee logged |
	    sync-relog M.log
	start=$SECONDS

	# The master changes all along.
	(
		while [ ! -e stop-writer ]; do
			change
			sleep 0.01
		done
	) 3>&- &
	writer=$!

	kills=0
	killer=$(tool sigkill-group)
	while [ "$kills" -lt "$KILLS" ]; do
		"$killer" synclog-tail -v -c -f -r -i 0.01 --max-backoff 0.05 \
		    -e "$PIPE" M.log 2>> consumer.err 3>&- &
		pid=$!
		sleep "0.0$((RANDOM % 9 + 1))"
		kill -TERM "$pid"
		wait "$pid" || true
		pid=
		kills=$((kills + 1))
		clear_dead_locks
	done
	touch stop-writer
	wait "$writer" || true
	writer=
	killsecs=$((SECONDS - start))

	# Whatever is left: the leftover batch first, then the log.
	for i in 1 2 3 4 5; do
		[ -e M.log ] || [ -e M.log-run ] || break
		synclog-tail -v -c -r -e "$PIPE" M.log 2>> consumer.err ||
		    sleep 0.2
	done
	[ ! -e M.log ]
	[ ! -e M.log-run ]
	run_ok sync-diff --all --exit-code M R

	# Every entry written reached the replica at least as often.
	entries=$(wc -l < logged)
	sort logged | uniq -c > want
	sort record | uniq -c > got
	run awk '{ n = $1; sub(/^ *[0-9]+ /, "") }
	    NR == FNR { got[$0] = n; next }
	    got[$0] < n { print "missing:", n, $0; bad = 1 } END { exit bad }' \
	    got want
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "$(wc -l < record)" -ge "$entries" ]
	grep -q 'taking a leftover batch first' consumer.err
	leftovers=$(grep -c 'taking a leftover batch first' consumer.err)
	secs=$((SECONDS - start))
	echo "# crash: $entries entries, $kills kills in ${killsecs}s," \
	    "$leftovers leftover batches taken first, ${secs}s in all" >&3
}
