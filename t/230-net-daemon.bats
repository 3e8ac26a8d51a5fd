#!/usr/bin/env bats
# sync-apply as a daemon: --listen with its limits and timeouts, a log line
# per connection, a clean stop on SIGTERM, privileges dropped after
# binding, and --inetd under socket activation.

load helpers
load net

setup() {
	sp_setup
	net_setup
	export SYNC_CA_FILE=$T/pki/ca.pem SYNC_CREDENTIALS=$T/creds
}

teardown() {
	exec 5<&- 2>/dev/null
	[ -n "${activator:-}" ] && kill "$activator" 2>/dev/null
	net_stop
}

@test "daemon: one log line per connection, with the peer, user and bundles" {
	net_server R
	run_ok net_copy "syncs://localhost:$port"
	net_wait_log "$T/R.log" \
	    "127\.0\.0\.1:[0-9]*: closed: user fred@syncpipe, 1 bundles, "
	net_wait_log "$T/R.log" \
	    "127\.0\.0\.1:[0-9]*: closed: user fred@syncpipe, 0 bundles, "
}

@test "daemon: SIGTERM stops it cleanly with status 0" {
	net_server R
	run_ok net_copy "syncs://localhost:$port"
	kill -TERM "$server_pid"
	status=0
	wait "$server_pid" || status=$?
	[ "$status" -eq 0 ]
	grep -q "stopped$" "$T/R.log"
	NET_PIDS=()
}

@test "daemon: connections beyond the limit are refused and logged" {
	net_server R --starttls --max-connections 1
	exec 5<>"/dev/tcp/127.0.0.1/$port"
	read -r greeting <&5
	run_fails sync-diff --all "$T/M" "sync://localhost:$port"
	[[ $stderr == *"closed the connection before its greeting"* ]]
	net_wait_log "$T/R.log" "refused: 1 connections already"
}

@test "daemon: an idle connection is closed after the idle timeout" {
	net_server R --starttls --idle-timeout 1
	exec 5<>"/dev/tcp/127.0.0.1/$port"
	read -r greeting <&5
	run read -r more <&5
	[ "$status" -ne 0 ]
	net_wait_log "$T/R.log" "idle for 1 seconds: timed out"
}

@test "daemon: a connection is closed at the total time limit" {
	net_server R --starttls --idle-timeout 100 --timeout 1
	exec 5<>"/dev/tcp/127.0.0.1/$port"
	read -r greeting <&5
	run read -r more <&5
	[ "$status" -ne 0 ]
	net_wait_log "$T/R.log" "total time limit reached"
}

@test "daemon: a failed session does not stop the daemon" {
	net_server R
	printf 'fred\nwrong\n' > "$T/bad"
	run_fails 77 sync-diff --credentials "$T/bad" --all "$T/M" \
	    "syncs://localhost:$port"
	run_ok net_copy "syncs://localhost:$port"
}

@test "daemon: privileges are dropped after binding" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	id nobody >/dev/null 2>&1 || skip "no user nobody"
	net_server R --user nobody
	grep -q "^Uid:[[:space:]]*$(id -u nobody)[[:space:]]" \
	    "/proc/$server_pid/status"
}

@test "daemon: a port already in use is a temporary failure" {
	net_server R
	run_fails 75 sync-apply --listen "127.0.0.1:$port" --tls \
	    --tls-cert "$T/pki/server.pem" --tls-key "$T/pki/server.key" \
	    --allow fred "$T/R2"
}

@test "daemon: --listen without a certificate does not start" {
	run_fails 78 sync-apply --listen 127.0.0.1:0 --allow fred "$T/R"
	[[ $stderr == *"needs a certificate"* ]]
}

@test "inetd: one session on a socket passed by socket activation" {
	command -v systemd-socket-activate >/dev/null ||
	    skip "systemd-socket-activate not installed"
	port=$((20000 + RANDOM % 20000))
	systemd-socket-activate -l "127.0.0.1:$port" --inetd -a \
	    "$SP_BIN/sync-apply" --inetd --tls \
	    --tls-cert "$T/pki/server.pem" --tls-key "$T/pki/server.key" \
	    --sasl-db "$T/sasldb" --sasl-realm syncpipe --allow fred \
	    "$T/R" 2> "$T/act.log" &
	activator=$!
	net_wait_log "$T/act.log" "Listening on"
	run_ok net_copy "syncs://localhost:$port"
	run_ok sync-diff --all --exit-code "$T/M" "$T/R"
}

@test "serve: an ssh session whose client goes away at once ends quietly" {
	run_ok sync-apply --serve "$T/R" < /dev/null
	[[ $output == "%syncpipe server 1 DEFLATE" ]]
	[ -z "$stderr" ]
}
