#!/usr/bin/env bats
# Faults on the wire: an oversized literal, an over-long line, a connection
# closed in the middle of a bundle, and the server killed in the middle of
# one.  The replica stays as it was; the client exits with the retry
# status.

load helpers
load net

setup() {
	sp_setup
	net_setup
	export SYNC_CA_FILE=$T/pki/ca.pem SYNC_CREDENTIALS=$T/creds
}

teardown() {
	exec 6>&- 2>/dev/null
	[ -n "${spid:-}" ] && kill "$spid" 2>/dev/null
	net_stop
}

# tls_session [s_client options]: the protocol text on stdin, the server's
# answers in $output.
tls_session() {
	openssl s_client -quiet -CAfile "$T/pki/ca.pem" \
	    -connect "127.0.0.1:$port" "$@" 2>/dev/null
}

login() {
	printf 'HELLO 1\nAUTH PLAIN %s\n' "$(printf '\0fred\0secret' | base64)"
}

@test "faults: an oversized literal is refused and the replica is unchanged" {
	net_server R
	{
		login
		printf 'APPLY\n%%syncpipe bundle 1\n'
		sync-diff --all "$T/M" /dev/null | grep -m1 '^MAILBOX user.user1 '
		printf 'ADD user.user1 1 base1 1700000000 99999999999 S\n'
		printf 'xxxx\n'
	} > "$T/in"
	run_ok tls_session -ign_eof < "$T/in"
	[[ $output == *"NO 65 the bundle was refused; the replica is unchanged"* ]]
	net_wait_log "$T/R.log" "body of 99999999999 bytes is too large"
	[ ! -d "$T/R/user1" ]
}

@test "faults: an over-long command line is refused and the connection closed" {
	net_server R
	{ login; head -c 70000 /dev/zero | tr '\0' x; echo; } > "$T/in"
	run_ok tls_session -ign_eof < "$T/in"
	[[ $output == *"NO 65 line too long"* ]]
	net_wait_log "$T/R.log" "line longer than 65536 bytes"
}

@test "faults: a connection closed in the middle of a bundle changes nothing" {
	net_server R
	sync-diff --all "$T/M" /dev/null > "$T/changes"
	sync-send "$T/M" < "$T/changes" > "$T/bundle"
	{
		login
		echo APPLY
		head -c $(($(stat -c %s "$T/bundle") / 2)) "$T/bundle"
	} > "$T/in"
	# s_client closes the connection when its input ends
	run tls_session -no_ign_eof < "$T/in"
	net_wait_log "$T/R.log" "bundle refused, the store was not changed"
	[ -z "$(ls "$T/R" 2>/dev/null | grep -v '^\.')" ]
	run_ok net_copy "syncs://localhost:$port"
	run_ok sync-diff --all --exit-code "$T/M" "$T/R"
}

@test "faults: the server killed in the middle of a bundle: exit 75, replica unchanged" {
	net_server R
	sync-diff --all "$T/M" /dev/null > "$T/changes"
	mkfifo "$T/fifo"
	sync-send "$T/M" "syncs://localhost:$port" < "$T/fifo" \
	    > "$T/applied" 2> "$T/send.err" &
	spid=$!
	exec 6> "$T/fifo"
	head -n 60 "$T/changes" >&6 || :
	# the server has staged bodies: the bundle is on its way
	for i in $(seq 100); do
		ls "$T"/R/.syncpipe/stage/*/ 2>/dev/null | grep -q . && break
		sleep 0.1
	done
	kill -KILL $(pgrep -P "$server_pid")
	tail -n +61 "$T/changes" >&6 2>/dev/null || :
	exec 6>&-
	status=0
	wait "$spid" || status=$?
	spid=
	cat "$T/send.err"
	[ "$status" -eq 75 ]
	[ -z "$(ls "$T/R" | grep -v '^\.')" ]
	! grep -q "^%end" "$T/applied"
	# the daemon goes on, and the retry completes the copy
	run_ok net_copy "syncs://localhost:$port"
	run_ok sync-diff --all --exit-code "$T/M" "$T/R"
}

@test "faults: the server killed after a first copy leaves the replica as it was" {
	net_server R
	run_ok net_copy "syncs://localhost:$port"
	before=$(tree_digest "$T/R")
	rm -r "$T/M/user2"
	syncpipe-gen --seed 9 --users 1 --folders 2 --messages 40 "$T/M2" \
	    >/dev/null
	cp -a "$T/M2/user1" "$T/M/user3"
	sync-diff --all "$T/M" "$T/R" > "$T/changes"
	mkfifo "$T/fifo"
	sync-send "$T/M" "syncs://localhost:$port" < "$T/fifo" \
	    > "$T/applied" 2> "$T/send.err" &
	spid=$!
	exec 6> "$T/fifo"
	head -n 30 "$T/changes" >&6 || :
	for i in $(seq 100); do
		ls "$T"/R/.syncpipe/stage/*/ 2>/dev/null | grep -q . && break
		sleep 0.1
	done
	kill -KILL $(pgrep -P "$server_pid")
	tail -n +31 "$T/changes" >&6 2>/dev/null || :
	exec 6>&-
	status=0
	wait "$spid" || status=$?
	spid=
	[ "$status" -eq 75 ]
	[ "$(tree_digest "$T/R")" = "$before" ]
}

@test "faults: a peer that is not a syncpipe server is refused" {
	printf '#!/bin/sh\necho "SSH-2.0-OpenSSH_9.2"\ncat >/dev/null\n' \
	    > "$T/notsync"
	chmod +x "$T/notsync"
	net_shim
	SYNC_REMOTE_APPLY=$T/notsync run_fails 76 sync-diff --all "$T/M" \
	    "ssh://r$T/R"
	[[ $stderr == *"bad greeting: not a syncpipe server"* ]]
}
