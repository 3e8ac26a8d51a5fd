#!/usr/bin/env bats
# SASL authentication with libsasl2 against a sasldb made by saslpasswd2:
# mechanisms, credentials, the allow-list, failures.

load helpers
load net

setup() {
	sp_setup
	net_setup
	export SYNC_CA_FILE=$T/pki/ca.pem
	unset SYNC_CREDENTIALS SYNC_AUTHID SYNC_PASSWORD SYNC_MECH
}

teardown() {
	net_stop
}

@test "sasl: SCRAM-SHA-256 is chosen when both sides have it" {
	net_server R
	run_ok sync-diff --credentials "$T/creds" --all "$T/M" \
	    "syncs://localhost:$port"
	net_wait_log "$T/R.log" "authenticated as fred@syncpipe (SCRAM-SHA-256)"
}

@test "sasl: PLAIN inside TLS" {
	net_server R
	run_ok sync-diff --credentials "$T/creds" --mech PLAIN --all "$T/M" \
	    "syncs://localhost:$port"
	net_wait_log "$T/R.log" "authenticated as fred@syncpipe (PLAIN)"
}

@test "sasl: credentials from the environment" {
	net_server R
	SYNC_AUTHID=fred SYNC_PASSWORD=secret run_ok net_copy \
	    "syncs://localhost:$port"
	run_ok sync-diff --all --exit-code "$T/M" "$T/R"
}

@test "sasl: no credentials is a configuration error" {
	net_server R
	run_fails 78 sync-diff --all "$T/M" "syncs://localhost:$port"
	[[ $stderr == *"no credentials"* ]]
}

@test "sasl: there is no option to give a password on the command line" {
	run_fails 64 sync-diff --password secret --all "$T/M" syncs://localhost
}

@test "sasl: a wrong password is refused, and logged with the peer's address" {
	net_server R
	printf 'fred\nwrong\n' > "$T/bad"
	run_fails 77 sync-diff --credentials "$T/bad" --all "$T/M" \
	    "syncs://localhost:$port"
	[[ $stderr == *"authentication failed"* ]]
	net_wait_log "$T/R.log" \
	    "127\.0\.0\.1:[0-9]*: authentication failed (SCRAM-SHA-256 as fred@syncpipe)"
	[ ! -d "$T/R/user1" ]
}

@test "sasl: a wrong password over PLAIN is refused too" {
	net_server R
	printf 'fred\nwrong\n' > "$T/bad"
	run_fails 77 sync-diff --credentials "$T/bad" --mech PLAIN --all \
	    "$T/M" "syncs://localhost:$port"
	net_wait_log "$T/R.log" "authentication failed (PLAIN"
}

@test "sasl: an identity not on the allow-list may not apply" {
	net_server R
	printf 'mallory\nsecret2\n' > "$T/mallory"
	run_fails 77 sync-diff --credentials "$T/mallory" --all "$T/M" \
	    "syncs://localhost:$port"
	net_wait_log "$T/R.log" "mallory@syncpipe): not on the allow-list"
}

@test "sasl: the allow-list may come from a file" {
	printf '# who may apply\nmallory\n' > "$T/allow"
	net_server R --allow-file "$T/allow"
	printf 'mallory\nsecret2\n' > "$T/mallory"
	run_ok sync-diff --credentials "$T/mallory" --all "$T/M" \
	    "syncs://localhost:$port"
}

@test "sasl: a failed authentication is answered after the delay" {
	net_server R --auth-delay 1
	printf 'fred\nwrong\n' > "$T/bad"
	run_fails 77 sync-diff --credentials "$T/bad" --all "$T/M" \
	    "syncs://localhost:$port"
	net_wait_log "$T/R.log" "authentication failed"
}

@test "sasl: a mechanism the server does not offer is refused by the client" {
	net_server R --sasl-mechs PLAIN
	run_fails 76 sync-diff --credentials "$T/creds" --mech SCRAM-SHA-256 \
	    --all "$T/M" "syncs://localhost:$port"
	[[ $stderr == *"no common SASL mechanism"* ]]
}

@test "sasl: a server with no allow-list does not start" {
	run_fails 78 sync-apply --listen 127.0.0.1:0 --tls-cert "$T/pki/server.pem" \
	    --tls-key "$T/pki/server.key" "$T/R"
	[[ $stderr == *"no identity may apply"* ]]
}

@test "sasl: the replica is not read before authentication" {
	net_server R
	run_ok sh -c "printf 'HELLO 1\nQUERY\nALL\n%%end 1\nQUIT\n' |
	    openssl s_client -quiet -CAfile '$T/pki/ca.pem' \
	    -connect 127.0.0.1:$port 2>/dev/null"
	[[ $output == *"NO 77 authenticate first"* ]]
	[[ $output != *"%syncpipe state"* ]]
}
