#!/usr/bin/env bats
# Replicas over TCP with TLS: syncs:// (TLS from the first byte) and
# sync:// (STARTTLS), certificate checks and their error messages.

load helpers
load net

setup() {
	sp_setup
	net_setup
	export SYNC_CA_FILE=$T/pki/ca.pem SYNC_CREDENTIALS=$T/creds
}

teardown() {
	net_stop
}

@test "syncs: a full copy, then nothing left to do" {
	net_server R
	run_ok net_copy "syncs://localhost:$port"
	run_ok sync-diff --all --exit-code "$T/M" "syncs://localhost:$port"
	run_ok sync-diff --all --exit-code "$T/M" "$T/R"
}

@test "sync: STARTTLS, then a full copy" {
	net_server R --starttls
	run_ok net_copy "sync://127.0.0.1:$port"
	run_ok sync-diff --all --exit-code "$T/M" "$T/R"
	grep -q "TLS: TLSv1\.[23]" "$T/R.log"
}

@test "tls: a certificate from an unknown CA is refused, naming the CA file" {
	net_server R
	SYNC_CA_FILE=$T/pki/other-ca.pem run_fails 78 sync-diff --all "$T/M" \
	    "syncs://localhost:$port"
	[[ $stderr == *"signed by an unknown CA (not in $T/pki/other-ca.pem)"* ]]
	[ ! -d "$T/R/user1" ]
}

@test "tls: without a CA file the system store is used, and the test CA is not in it" {
	net_server R
	SYNC_CA_FILE= run_fails 78 sync-diff --all "$T/M" \
	    "syncs://localhost:$port"
	[[ $stderr == *"unknown CA (not in the system's CA store)"* ]]
}

@test "tls: a certificate for another host is refused" {
	net_server R --tls-cert "$T/pki/wronghost.pem" \
	    --tls-key "$T/pki/wronghost.key"
	run_fails 78 sync-diff --all "$T/M" "syncs://localhost:$port"
	[[ $stderr == *"certificate is not for host localhost"* ]]
}

@test "tls: an IP address is checked against the certificate too" {
	net_server R --tls-cert "$T/pki/wronghost.pem" \
	    --tls-key "$T/pki/wronghost.key"
	run_fails 78 sync-diff --all "$T/M" "syncs://127.0.0.1:$port"
	[[ $stderr == *"certificate is not for host 127.0.0.1"* ]]
}

@test "tls: an expired certificate is refused" {
	net_server R --tls-cert "$T/pki/expired.pem" \
	    --tls-key "$T/pki/expired.key"
	run_fails 78 sync-diff --all "$T/M" "syncs://localhost:$port"
	[[ $stderr == *"certificate has expired"* ]]
}

@test "tls: --insecure goes on without checks, with a warning" {
	net_server R --tls-cert "$T/pki/wronghost.pem" \
	    --tls-key "$T/pki/wronghost.key"
	run_ok sync-diff --insecure --all "$T/M" "syncs://localhost:$port"
	[[ $stderr == *"warning: "*"--insecure: the server's certificate is not checked"* ]]
}

@test "tls: a server that requires client certificates refuses a client without one" {
	net_server R --tls-client-ca "$T/pki/ca.pem"
	run_fails sync-diff --all "$T/M" "syncs://localhost:$port"
	[ ! -d "$T/R/user1" ]
}

@test "tls: a client certificate from the required CA is accepted" {
	net_server R --tls-client-ca "$T/pki/ca.pem"
	run_ok sync-diff --cert "$T/pki/client.pem" --key "$T/pki/client.key" \
	    --all "$T/M" "syncs://localhost:$port"
}

@test "tls: only TLS 1.2 and later are spoken" {
	net_server R
	run_fails openssl s_client -tls1_1 -connect "127.0.0.1:$port" \
	    < /dev/null
	run_ok openssl s_client -tls1_2 -CAfile "$T/pki/ca.pem" \
	    -connect "127.0.0.1:$port" < /dev/null
}

@test "starttls: authentication in plaintext is refused before STARTTLS" {
	net_server R --starttls
	exec 5<>"/dev/tcp/127.0.0.1/$port"
	read -r greeting <&5
	printf 'AUTH PLAIN %s\n' "$(printf '\0fred\0secret' | base64)" >&5
	read -r reply <&5
	exec 5<&-
	[[ $greeting == "%syncpipe server 1 STARTTLS DEFLATE"* ]]
	[[ $greeting != *AUTH=* ]]
	[[ $reply == "NO 77 STARTTLS first"* ]]
}

@test "starttls: no command but STARTTLS, HELLO and QUIT before TLS" {
	net_server R --starttls
	exec 5<>"/dev/tcp/127.0.0.1/$port"
	read -r greeting <&5
	printf 'HELLO 1\nQUERY\n' >&5
	read -r hello <&5
	read -r query <&5
	exec 5<&-
	[ "$hello" = "OK protocol 1" ]
	[[ $query == "NO 77 STARTTLS first"* ]]
}

@test "starttls: a client refuses a server that does not offer STARTTLS" {
	net_server R
	run_fails sync-diff --timeout 2 --all "$T/M" "sync://localhost:$port"
	[ ! -d "$T/R/user1" ]
}
