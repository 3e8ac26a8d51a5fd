#!/usr/bin/env bats
# synclog-tail: print mode on real Cyrus logs, consuming, coalescing,
# following, stopping, and the consumer lock.

load helpers

CYRUS="$BATS_TEST_DIRNAME/fixtures/cyrus"

# A consumer left running by a failed test is stopped.
teardown() {
	if [ -n "${pid:-}" ]; then
		kill "$pid" 2>/dev/null || true
	fi
}

# wait_for CMD...: up to 10 s until CMD succeeds.
wait_for() {
	local i
	for i in $(seq 100); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

@test "print: a real Cyrus log comes out as it went in" {
	local logs=("$CYRUS/05-imap-create-nonascii-special.master.log"
	    "$CYRUS/23-imap-rename-with-children.master.log"
	    "$CYRUS/45-imap-create-punctuation.master.log")
	run_ok synclog-tail "${logs[@]}"
	[ -z "$stderr" ]
	[ "$output" = "$(cat "${logs[@]}")" ]
}

@test "print: Cyrus's quoting and escaping read and written the same" {
	run_ok synclog-tail "$CYRUS/cyr_synclog-quoting.log"
	[ -z "$stderr" ]
	[ "${lines[0]}" = 'MAILBOX "user.alice.Say \"hi\""' ]
	[ "${lines[1]}" = 'MAILBOX "user.alice.back\\slash"' ]
	[ "${lines[2]}" = 'MAILBOX "user.alice.Brace\{x\}"' ]
	[ "${lines[3]}" = 'MAILBOX "user.alice.Paren(1)"' ]
	[ "${lines[4]}" = "MAILBOX \"user.alice.tab	here\"" ]
	[ "${lines[5]}" = 'USER "odd user"' ]
	[ "${#lines[@]}" -eq 13 ]
}

@test "print: entries are rewritten in canonical form" {
	printf 'mailbox  user.a\r\n\n  Rename\t"x y" {z}\nannotation ""\n' > log
	run_ok synclog-tail log
	[ -z "$stderr" ]
	[ "$output" = "$(cat <<'EOF'
MAILBOX user.a
RENAME "x y" "\{z\}"
ANNOTATION ""
EOF
)" ]
}

@test "print: stdin and several files, in order" {
	echo "USER a" > one
	echo "USER c" > three
	run_ok sh -c 'echo "USER b" | synclog-tail one - three'
	[ "$output" = "$(printf 'USER a\nUSER b\nUSER c')" ]
}

@test "print: the output reads back to itself" {
	cat "$CYRUS"/*.log > all
	synclog-tail all > once
	run_ok synclog-tail once
	[ "$output" = "$(cat once)" ]
}

@test "print: a malformed line is reported with file and line, status 65" {
	printf 'USER a\nFROB x\nMAILBOX "open\nUSER b\n' > log
	run_fails 65 synclog-tail log
	[ "$output" = "$(printf 'USER a\nUSER b')" ]
	[ "${stderr_lines[0]}" = 'synclog-tail: log:2: unknown entry type "FROB"' ]
	[ "${stderr_lines[1]}" = 'synclog-tail: log:3: unterminated quoted word' ]
}

@test "print: a missing file is status 66, the others are printed" {
	echo "USER a" > one
	run_fails 66 synclog-tail nosuch one
	[ "$output" = "USER a" ]
	[[ "$stderr" == *"nosuch"* ]]
}

@test "consume: rotates, hands the batch on, deletes it on success" {
	printf 'USER a\nUSER b\n' > log
	run_ok synclog-tail -c -e 'cat > out' log
	[ "$(cat out)" = "$(printf 'USER a\nUSER b')" ]
	[ ! -e log ]
	[ ! -e log-run ]
}

@test "consume: one stderr line per batch" {
	printf 'USER a\nUSER a\nUSER b\n' > log
	run_ok synclog-tail -c -e 'cat > /dev/null' log
	[[ "$stderr" =~ ^"synclog-tail: batch: 3 entries, 2 objects, "[0-9]+\.[0-9][0-9]"s, ok"$ ]]
}

@test "consume: a failed command keeps LOG-run, status 75" {
	echo "USER a" > log
	run_fails 75 synclog-tail -c -e 'cat > /dev/null; exit 3' log
	[ "$(cat log-run)" = "USER a" ]
	[[ "$stderr" == *"failed (status 3)" ]]
}

@test "consume: a command's permanent status is passed on" {
	echo "USER a" > log
	run_fails 65 synclog-tail -c -e 'exit 65' log
	[ -e log-run ]
}

@test "consume: a leftover LOG-run is taken first, LOG left for later" {
	echo "USER old" > log-run
	echo "USER new" > log
	run_ok synclog-tail -c -e 'cat > out' log
	[ "$(cat out)" = "USER old" ]
	[ "$(cat log)" = "USER new" ]
	[ ! -e log-run ]
}

@test "consume: nothing to do is success" {
	run_ok synclog-tail -c -e 'touch ran' log
	[ -z "$stderr" ]
	[ ! -e ran ]
}

@test "consume: without --exec the batch goes to stdout" {
	printf 'USER a\n' > log
	run_ok synclog-tail -q -c log
	[ "$output" = "USER a" ]
	[ ! -e log-run ]
}

@test "consume: a malformed line is reported, the batch goes on" {
	printf 'USER a\nBAD\nUSER b\n' > log
	run_ok synclog-tail -c -e 'cat > out' log
	[ "${stderr_lines[0]}" = "synclog-tail: log-run:2: unknown entry type \"BAD\"" ]
	[ "$(cat out)" = "$(printf 'USER a\nUSER b')" ]
}

@test "consume: coalescing as Cyrus does on a user delete and rename" {
	cat "$CYRUS/40-admin-delete-user-carol.master.log" \
	    "$CYRUS/41-admin-rename-user-bob.master.log" > log
	run_ok synclog-tail -q -c log
	[ "$output" = "$(cat <<'EOF'
RENAME user.carol DELETED.user.carol.6B115F65
RENAME user.carol.Keep DELETED.user.carol.Keep.6B115F65
UNUSER carol
MAILBOX DELETED.user.carol.6B115F65
MAILBOX DELETED.user.carol.Keep.6B115F65
RENAME user.bob user.robert
UNUSER bob
MAILBOX user.robert
USER robert
EOF
)" ]
}

@test "consume: --raw keeps every entry" {
	printf 'USER a\nUSER a\nMETA a\n' > log
	run_ok synclog-tail -q -c -r log
	[ "$output" = "$(printf 'USER a\nUSER a\nMETA a')" ]
}

@test "consume: a second consumer is refused with 75, naming the pid" {
	: > log
	synclog-tail -q -c -f -i 0.1 -e 'cat >> out' log 3>&- &
	pid=$!
	wait_for test -s log.consumer
	run --separate-stderr synclog-tail -c -e 'cat >> out' log
	kill -TERM "$pid"
	wait "$pid"
	[ "$status" -eq 75 ]
	[ "$stderr" = "synclog-tail: log.consumer: another consumer holds it (pid $pid)" ]
}

@test "follow: SIGTERM stops at the batch boundary with status 0" {
	echo "USER a" > log
	synclog-tail -q -c -f -i 0.1 \
	    -e 'touch started; sleep 1; cat > out' log 3>&- &
	pid=$!
	wait_for test -e started
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	[ "$st" -eq 0 ]
	[ "$(cat out)" = "USER a" ]
	[ ! -e log-run ]
}

@test "follow: the shutdown file stops it and is removed" {
	synclog-tail -q -c -f -i 0.1 --shutdown-file stop -e 'cat >> out' \
	    log 3>&- &
	pid=$!
	echo "USER a" | sync-relog log
	wait_for test -s out
	touch stop
	st=0
	wait "$pid" || st=$?
	[ "$st" -eq 0 ]
	[ ! -e stop ]
	[ "$(cat out)" = "USER a" ]
}

@test "follow: a failed batch is retried until it goes through" {
	echo "USER a" > log
	synclog-tail -q -c -f -i 0.1 --max-backoff 0.2 --shutdown-file stop \
	    -e 'n=$(cat n 2>/dev/null || echo 0); echo $((n + 1)) > n;
		[ "$n" -ge 2 ] && cat > out' log 3>&- &
	pid=$!
	wait_for test -s out
	touch stop
	wait "$pid"
	[ "$(cat n)" -eq 3 ]
	[ "$(cat out)" = "USER a" ]
}

@test "follow: concurrent writers lose and tear nothing" {
	synclog-tail -q -c -f -i 0.05 --shutdown-file stop \
	    -e 'cat >> out' log 3>&- &
	pid=$!
	writers=()
	for w in 1 2 3 4; do
		(for i in $(seq 500); do
			echo "MAILBOX user.w$w.m$i" | sync-relog log
		done) 3>&- &
		writers+=($!)
	done
	wait "${writers[@]}"
	wait_for test ! -s log
	wait_for test ! -e log-run
	touch stop
	wait "$pid"
	run grep -cvE '^MAILBOX user\.w[1-4]\.m[0-9]+$' out
	[ "$output" -eq 0 ]
	[ "$(sort -u out | wc -l)" -eq 2000 ]
}

@test "usage: --follow without --consume is status 64" {
	run_fails 64 synclog-tail -f log
	[[ "$stderr" == *"usage:"* ]]
}
