#!/usr/bin/env bats
# Replicas over ssh: sync-apply --serve run through $SYNC_RSH, here a shim
# that runs the remote command on this host.

load helpers
load net

setup() {
	sp_setup
	net_shim
	syncpipe-gen --seed 7 --users 2 --folders 3 --messages 12 "$T/M" \
	    >/dev/null
}

@test "ssh: a full copy makes the replica equal to the master" {
	run_ok net_copy "ssh://backup@replica.example:2222$T/R"
	run_ok sync-diff --all --exit-code "$T/M" "$T/R"
	# the same store as a copy made on this host
	run_ok sh -c "sync-diff --all '$T/M' /dev/null | sync-send '$T/M' '$T/L'"
	[ "$(tree_digest "$T/L")" = "$(tree_digest "$T/R")" ]
}

@test "ssh: user, port and the remote command reach the remote shell" {
	run_ok net_copy "ssh://backup@replica.example:2222$T/R"
	grep -q -- "-p 2222 -l backup replica.example sync-apply --serve '$T/R'" \
	    "$T/rsh.log"
}

@test "ssh: sync-send prints the applied entries, framed" {
	run_ok net_copy "ssh://replica.example$T/R"
	[ "$(head -1 "$T/applied")" = "%syncpipe applied 1" ]
	grep -q '^MAILBOX user.user1$' "$T/applied"
	tail -1 "$T/applied" | grep -q '^%end [0-9]*$'
}

@test "ssh: sync-diff reads the replica's state in one query" {
	run_ok net_copy "ssh://replica.example$T/R"
	run_ok sync-diff -vv --all --exit-code "$T/M" "ssh://replica.example$T/R"
	[ "$output" = "$(printf '%%syncpipe changes 1\n%%end 0')" ]
	[[ $stderr == *"state of 1 objects"* ]]
}

@test "ssh: an incremental change travels and only it" {
	run_ok net_copy "ssh://replica.example$T/R"
	rm "$T"/M/user1/Maildir/cur/$(ls "$T/M/user1/Maildir/cur" | head -1)
	echo MAILBOX user.user1 > "$T/entries"
	run_ok sh -c "sync-diff '$T/M' 'ssh://r$T/R' < '$T/entries' |
	    sync-send '$T/M' 'ssh://r$T/R'"
	[ "$(echo "$output" | sed -n 2p)" = "MAILBOX user.user1" ]
	run_ok sync-diff --all --exit-code "$T/M" "$T/R"
}

@test "ssh: a path with a quote reaches the remote side intact" {
	run_ok net_copy "ssh://r$T/it's here"
	run_ok sync-diff --all --exit-code "$T/M" "$T/it's here"
}

@test "ssh: the closing note of sync-send gives the bytes before and after deflate" {
	run_ok net_copy "ssh://r$T/R"
	run_ok sync-send "$T/M" "ssh://r$T/R" < "$T/changes"
	[[ $stderr =~ deflate:\ sent\ ([0-9]+)\ bytes\ as\ ([0-9]+) ]]
	[ "${BASH_REMATCH[2]}" -lt "${BASH_REMATCH[1]}" ]
}

@test "ssh: --no-deflate sends the bundle uncompressed" {
	run_ok sync-diff --all "$T/M" /dev/null
	echo "$output" > "$T/changes"
	run_ok sync-send --no-deflate "$T/M" "ssh://r$T/R" < "$T/changes"
	[[ $stderr != *deflate* ]]
	run_ok sync-diff --all --exit-code "$T/M" "$T/R"
}

@test "ssh: a remote shell that cannot connect is a temporary failure" {
	printf '#!/bin/sh\necho "ssh: connect to host r: refused" >&2\nexit 255\n' \
	    > "$T/badrsh"
	chmod +x "$T/badrsh"
	SYNC_RSH=$T/badrsh run_fails 69 sync-diff --all "$T/M" "ssh://r$T/R"
	[[ $stderr == *"before its greeting"* ]]
}

@test "ssh: an endpoint without a path is a usage error" {
	run_fails 64 sync-diff --all "$T/M" ssh://replica.example
	[[ $stderr == *"ssh endpoints need a path"* ]]
}

@test "endpoints: an unknown scheme is a usage error" {
	run_fails 64 sync-send "$T/M" ftp://replica.example/x < /dev/null
	[[ $stderr == *"unknown scheme"* ]]
}

@test "endpoints: a bad port is a usage error" {
	run_fails 64 sync-diff --all "$T/M" sync://replica.example:99999
	[[ $stderr == *"port must be a number"* ]]
}

@test "versions: a server of another protocol version is refused, naming both" {
	printf '#!/bin/sh\necho "%%syncpipe server 7-9 DEFLATE"\ncat >/dev/null\n' \
	    > "$T/future"
	chmod +x "$T/future"
	SYNC_REMOTE_APPLY=$T/future run_fails 76 sync-diff --all "$T/M" \
	    "ssh://r$T/R"
	[[ $stderr == *"the server speaks 7-9, this program speaks 1"* ]]
}

@test "versions: the server refuses a client of another version, naming its own" {
	run_ok sh -c "printf 'HELLO 5\n' | sync-apply --serve '$T/R'"
	[[ $output == *"NO 76 no common protocol version: this server speaks 1"* ]]
}

@test "versions: unknown features and newer versions in the greeting are skipped" {
	cat > "$T/extra" <<-'EOS'
	#!/bin/sh
	sync-apply "$@" | {
		IFS= read -r g
		echo "%syncpipe server 1-4 TELEPATHY ${g#%syncpipe server 1 }"
		exec cat
	}
	EOS
	chmod +x "$T/extra"
	SYNC_REMOTE_APPLY=$T/extra run_ok net_copy "ssh://r$T/R"
	run_ok sync-diff --all --exit-code "$T/M" "$T/R"
}

@test "ssh: a server without DEFLATE is used uncompressed" {
	SYNC_REMOTE_APPLY="sync-apply --no-deflate" run_ok sync-diff -vv --all \
	    "$T/M" "ssh://r$T/R"
	[[ $stderr == *"does not offer DEFLATE"* ]]
}

@test "bundle files: sync-send -z writes a deflated bundle that sync-apply reads" {
	run_ok sh -c "sync-diff --all '$T/M' /dev/null > '$T/changes'"
	run_ok sh -c "sync-send -z '$T/M' < '$T/changes' > '$T/b.z'"
	[[ $stderr =~ deflate:\ ([0-9]+)\ bytes\ of\ bundle\ written\ as\ ([0-9]+) ]]
	[ "$(stat -c %s "$T/b.z")" -eq "${BASH_REMATCH[2]}" ]
	[ "${BASH_REMATCH[2]}" -lt "${BASH_REMATCH[1]}" ]
	run_ok sh -c "sync-apply '$T/R' < '$T/b.z'"
	run_ok sync-diff --all --exit-code "$T/M" "$T/R"
}

@test "ssh: a change list cut short fails at once with 65, nothing applied" {
	run_ok net_copy "ssh://replica.example$T/R"
	printf '%%syncpipe changes 1\nUNMAILBOX user.user1.Sent - 1\n' \
	    > "$T/cut"
	run_fails 65 timeout 30 sync-send "$T/M" "ssh://replica.example$T/R" \
	    < "$T/cut"
	[ -d "$T/R/user1/Maildir/.Sent" ]
}
