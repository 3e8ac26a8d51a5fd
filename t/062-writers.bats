#!/usr/bin/env bats
# Writers and rotation under load: several writers append at once while a
# consumer rotates the log again and again; no entry is lost or torn.

load helpers

teardown() {
	local p
	for p in ${pid:-} ${writers[@]:-}; do
		kill "$p" 2>/dev/null
	done
	return 0
}

tool() {
	local objdir=build
	[ -e "$SP_BIN/.flavour-san" ] && objdir=build-san
	echo "$SP_TOP/$objdir/t/tools/$1"
}

# wait_for CMD...: up to 30 s until CMD succeeds.
wait_for() {
	local i
	for i in $(seq 300); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# writers LOG: four writers at once, 9,000 entries in all: three test
# writers (one entry, 7 entries and 50 entries a write) and sync-relog run
# 30 times with 100 entries each.
start_writers() {
	local w
	writers=()
	w=$(tool synclog-writer)
	"$w" "$1" a 3000 1 3>&- &
	writers+=($!)
	"$w" "$1" b 2000 7 3>&- &
	writers+=($!)
	"$w" "$1" c 1000 50 3>&- &
	writers+=($!)
	(for i in $(seq 30); do
		seq -f "SUB relog user.r.m$i.%g" 100 | sync-relog "$1" || exit
	done) 3>&- &
	writers+=($!)
}

# check_out FILE: every line whole, every entry there.
check_out() {
	run grep -cvE -e '^MAILBOX "user\.w[abc]\.m [0-9]+ x*"$' \
	    -e '^SUB relog user\.r\.m[0-9]+\.[0-9]+$' "$1"
	[ "$output" -eq 0 ]
	[ "$(sort -u "$1" | wc -l)" -eq 9000 ]
}

@test "writers: 9,000 entries from four writers, rotated all along" {
	synclog-tail -q -c -f -i 0.01 --shutdown-file stop \
	    -e 'cat >> out' log 3>&- &
	pid=$!
	start_writers log
	wait "${writers[@]}"
	writers=()
	wait_for test ! -e log
	wait_for test ! -e log-run
	touch stop
	wait "$pid"
	pid=
	check_out out
	# Nothing failed, so nothing came twice.
	[ "$(wc -l < out)" -eq 9000 ]
}

@test "writers: a failing consumer repeats entries, never loses one" {
	# Every third batch fails after it was handed on.
	synclog-tail -q -c -f -i 0.01 --max-backoff 0.02 --shutdown-file stop \
	    -e 'tee -a out > /dev/null; n=$(cat n 2>/dev/null || echo 0)
		echo $((n + 1)) > n; [ $((n % 3)) -ne 2 ]' \
	    log 2> consumer.err 3>&- &
	pid=$!
	start_writers log
	wait "${writers[@]}"
	writers=()
	wait_for test ! -e log
	wait_for test ! -e log-run
	touch stop
	wait "$pid"
	pid=
	check_out out
	grep -q 'failed (status 1)' consumer.err
	[ "$(wc -l < out)" -gt 9000 ]
}

@test "writers: the consumer waits for a writer holding an flock" {
	"$(tool slow-writer)" flock log 1 3>&- &
	writers=($!)
	wait_for test -s log
	run_ok synclog-tail -q -c -e 'cat > out' log
	[ "$(cat out)" = "MAILBOX user.slow.writer" ]
	wait "${writers[@]}"
}

@test "writers: the consumer waits for a writer holding an fcntl lock" {
	"$(tool slow-writer)" fcntl log 1 3>&- &
	writers=($!)
	wait_for test -s log
	run_ok synclog-tail -q -c -e 'cat > out' log
	[ "$(cat out)" = "MAILBOX user.slow.writer" ]
	wait "${writers[@]}"
}

@test "writers: sync-relog waits for a writer holding an fcntl lock" {
	"$(tool slow-writer)" fcntl log 1 3>&- &
	writers=($!)
	wait_for test -s log
	run_ok sh -c 'echo "USER after" | sync-relog log'
	[ "$(cat log)" = "$(printf 'MAILBOX user.slow.writer\nUSER after')" ]
	wait "${writers[@]}"
}
