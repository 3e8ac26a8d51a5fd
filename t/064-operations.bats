#!/usr/bin/env bats
# Running a consumer: polling interval, bounded backoff, shutdown file,
# signals, one batch for cron and what its exit status says, the lock, and
# the line logged per batch.

load helpers

teardown() {
	[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null
	return 0
}

# wait_for CMD...: up to 20 s until CMD succeeds.
wait_for() {
	local i
	for i in $(seq 200); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# retries N: the consumer said N times that it would retry.
retries() {
	[ "$(grep -c retrying err 2>/dev/null)" -ge "$1" ]
}

@test "ops: --interval polls for new entries" {
	synclog-tail -q -c -f -i 0.05 --shutdown-file stop \
	    -e 'cat >> out' log 3>&- &
	pid=$!
	for i in 1 2 3; do
		echo "USER u$i" | sync-relog log
		wait_for grep -qx "USER u$i" out
	done
	touch stop
	wait "$pid"
	pid=
	[ "$(cat out)" = "$(printf 'USER u1\nUSER u2\nUSER u3')" ]
}

@test "ops: a bad --interval or --max-backoff is status 64" {
	run_fails 64 synclog-tail -c -f -i soon log
	[ "${stderr_lines[0]}" = "synclog-tail: bad number of seconds: soon" ]
	run_fails 64 synclog-tail -c -f --max-backoff -1 log
}

@test "ops: the wait after failures doubles up to --max-backoff" {
	echo "USER a" > log
	synclog-tail -c -f -i 0.1 --max-backoff 0.4 -e 'exit 1' log \
	    2> err 3>&- &
	pid=$!
	wait_for retries 5
	kill -TERM "$pid"
	wait "$pid"
	pid=
	run grep -o 'retrying in .*' err
	[ "${lines[0]}" = "retrying in 0.1s" ]
	[ "${lines[1]}" = "retrying in 0.2s" ]
	[ "${lines[2]}" = "retrying in 0.4s" ]
	[ "${lines[3]}" = "retrying in 0.4s" ]
	[ "$(cat log-run)" = "USER a" ]
}

@test "ops: the wait goes back to the interval after a success" {
	echo "USER a" > log
	synclog-tail -c -f -i 0.1 --max-backoff 0.4 --shutdown-file stop \
	    -e 'n=$(cat n 2>/dev/null || echo 0); echo $((n + 1)) > n
		[ "$n" -ge 3 ] && cat >> out' log 2> err 3>&- &
	pid=$!
	wait_for test -s out
	echo "USER b" | sync-relog log
	wait_for grep -qx "USER b" out
	touch stop
	wait "$pid"
	pid=
	[ "$(grep -c retrying err)" -eq 3 ]
}

@test "ops: SIGTERM waits for the running batch, then status 0" {
	echo "USER a" > log
	synclog-tail -q -c -f -i 0.1 \
	    -e 'touch started; sleep 1; cat > out' log 3>&- &
	pid=$!
	wait_for test -e started
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	pid=
	[ "$st" -eq 0 ]
	[ "$(cat out)" = "USER a" ]
	[ ! -e log-run ]
}

@test "ops: SIGINT stops at the batch boundary with status 0" {
	echo "USER a" > log
	synclog-tail -q -c -f -i 0.1 \
	    -e 'touch started; sleep 1; cat > out' log 3>&- &
	pid=$!
	wait_for test -e started
	kill -INT "$pid"
	st=0
	wait "$pid" || st=$?
	pid=
	[ "$st" -eq 0 ]
	[ "$(cat out)" = "USER a" ]
	[ ! -e log-run ]
}

@test "ops: SIGTERM while idle stops at once with status 0" {
	synclog-tail -q -c -f -i 30 -e 'cat >> out' log 3>&- &
	pid=$!
	wait_for test -s log.consumer
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	pid=
	[ "$st" -eq 0 ]
}

@test "ops: a shutdown file present at the start means no batch" {
	echo "USER a" > log
	touch stop
	run_ok synclog-tail -c --shutdown-file stop -e 'cat > out' log
	[ ! -e out ]
	[ ! -e stop ]
	[ "$(cat log)" = "USER a" ]
}

@test "ops: one batch for cron: nothing to do is 0 and silent" {
	run_ok synclog-tail -c -e 'cat > out' log
	[ -z "$stderr" ]
	[ ! -e out ]
}

@test "ops: one batch for cron: a batch handed on is 0 and one line" {
	printf 'USER a\nUSER a\n' > log
	run_ok synclog-tail -c -e 'cat > out' log
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" =~ ^"synclog-tail: batch: 2 entries, 1 objects, "[0-9.]+"s, ok"$ ]]
}

@test "ops: one batch for cron: a failure that may pass is 75" {
	echo "USER a" > log
	run_fails 75 synclog-tail -c -e 'exit 1' log
	[[ "$stderr" =~ ^"synclog-tail: batch: 1 entries, 1 objects, "[0-9.]+"s, failed (status 1)"$ ]]
	[ -e log-run ]
	# The next run takes the same batch again.
	echo "USER b" | sync-relog log
	run_ok synclog-tail -q -c -e 'cat > out' log
	[ "$(cat out)" = "USER a" ]
	run_ok synclog-tail -q -c -e 'cat > out' log
	[ "$(cat out)" = "USER b" ]
}

@test "ops: one batch for cron: a permanent failure keeps its status" {
	echo "USER a" > log
	run_fails 77 synclog-tail -c -e 'exit 77' log
	[[ "$stderr" == *"failed (status 77)" ]]
	[ -e log-run ]
}

@test "ops: one batch for cron: a command killed by a signal is 75" {
	echo "USER a" > log
	run_fails 75 synclog-tail -c -e 'kill -KILL $$' log
	[[ "$stderr" == *"failed (status 137)" ]]
}

@test "ops: a second consumer of the same log says who holds it" {
	: > log
	synclog-tail -q -c -f -i 0.1 -e 'cat >> out' log 3>&- &
	pid=$!
	wait_for test -s log.consumer
	run_fails 75 synclog-tail -c -e 'cat >> out' log
	[ "$stderr" = "synclog-tail: log.consumer: another consumer holds it (pid $pid)" ]
	kill -TERM "$pid"
	wait "$pid"
	pid=
	# Once it is gone, the lock is free again.
	run_ok synclog-tail -c -e 'cat >> out' log
}

@test "ops: consumers of two different logs run side by side" {
	echo "USER a" > one
	echo "USER b" > two
	synclog-tail -q -c -f -i 0.05 --shutdown-file stop1 \
	    -e 'cat >> out1' one 3>&- &
	pid=$!
	run_ok synclog-tail -q -c -e 'cat >> out2' two
	wait_for test -s out1
	touch stop1
	wait "$pid"
	pid=
	[ "$(cat out2)" = "USER b" ]
}

@test "ops: --syslog sends the batch line to syslog, not stderr" {
	echo "USER a" > log
	run_ok synclog-tail --syslog -c -e 'cat > /dev/null' log
	[ -z "$stderr" ]
}

@test "--follow stops on a permanent failure and keeps the batch" {
	echo 'USER fred' | sync-relog "$T/log"
	run_fails 65 timeout 20 synclog-tail -c -f -i 0.1 -e 'cat >/dev/null; exit 65' "$T/log"
	[[ "$stderr" == *"failed for good (status 65)"* ]]
	[ "$(cat "$T/log-run")" = "USER fred" ]
}

@test "a command the shell cannot run is a permanent failure" {
	echo 'USER fred' | sync-relog "$T/log"
	run_fails 78 synclog-tail -c -e '/nonexistent/cmd' "$T/log"
	[ -e "$T/log-run" ]
}
