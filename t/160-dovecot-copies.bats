#!/usr/bin/env bats
# Copies and moves: 1,000 messages moved or copied between folders through
# the master's Dovecot send no message bodies; the bundle refers to what
# the replica already holds.  A user per test.

load helpers
load dovecot

setup_file() {
	dv_setup_file
}

teardown_file() {
	dv_teardown_file
}

setup() {
	sp_setup
	dv_need
}

# drop USER N [SAME]: N messages of about 4 kB written straight into the
# master's INBOX, as a plain delivery agent leaves them (no UIDs yet), then
# replicated; the total size of the bodies is left in $bodies.  Each
# message has a size of its own, unless SAME is given.
drop() {
	local user=$1 n=$2 dir=$M/$1/Maildir
	mkdir -p "$dir/cur" "$dir/new" "$dir/tmp"
	awk -v n="$n" -v user="$user" -v dir="$dir" -v same="${3:-}" \
	    -v now="$(date +%s)" 'BEGIN {
		line = sprintf("%076d", 0)
		for (i = 1; i <= n; i++) {
			f = sprintf("%s/new/%d.M%dP1.test", dir, now, i)
			printf "From: Sender <sender@test.invalid>\n" > f
			printf "Subject: drop %06d\n", i > f
			printf "Message-ID: <%s-%06d@test>\n\n", user, i > f
			for (j = 0; j < 52; j++)
				print line > f
			if (same == "")
				printf "%*s\n", i, "" > f
			close(f)
		}
	}'
	bodies=$(cat "$dir"/new/* | wc -c)
	dv_own "$M"
	sp_log "USER $user"
	sp_replicate
	[ "$(count_messages "$R/$user")" -eq "$n" ]
}

# bundle_of ENTRY...: the change list and the bundle the entries give,
# in $T/changes and $T/bundle (nothing applied).
bundle_of() {
	printf '%s\n' "$@" > "$T/entries"
	run_ok sh -c 'sync-diff "$0" "$1" < "$2" > "$3"' \
	    "$M" "$R" "$T/entries" "$T/changes"
	run_ok sh -c 'sync-send "$0" < "$1" > "$2"' \
	    "$M" "$T/changes" "$T/bundle"
}

@test "moving 1,000 messages sends no bodies" {
	drop hank 1000
	run_ok dv m mailbox create -u hank Archive
	run_ok dv m move -u hank Archive mailbox INBOX all
	bundle_of 'DOUBLEMAILBOX user.hank user.hank.Archive'
	[ "$(grep -c '^COPY ' "$T/changes")" -eq 1000 ]
	[ "$(grep -c '^ADD ' "$T/changes" || true)" -eq 0 ]
	size=$(wc -c < "$T/bundle")
	echo "bundle $size bytes, bodies $bodies bytes"
	[ "$size" -lt $((bodies / 10)) ]
	run_ok sh -c 'sync-apply "$0" < "$1"' "$R" "$T/bundle"
	dv_own "$R"
	dv_same hank
}

@test "copying 1,000 messages sends no bodies" {
	drop ivy 1000
	run_ok dv m mailbox create -u ivy Copy
	run_ok dv m copy -u ivy Copy mailbox INBOX all
	bundle_of 'DOUBLEMAILBOX user.ivy user.ivy.Copy'
	[ "$(grep -c '^ADD ' "$T/changes" || true)" -eq 0 ]
	size=$(wc -c < "$T/bundle")
	echo "bundle $size bytes, bodies $bodies bytes"
	[ "$size" -lt $((bodies / 10)) ]
	run_ok sh -c 'sync-apply "$0" < "$1"' "$R" "$T/bundle"
	dv_own "$R"
	dv_same ivy
}

@test "a move by the rolling pipeline leaves both Dovecots the same" {
	drop jay 20
	run_ok dv m mailbox create -u jay Done
	run_ok dv m move -u jay Done mailbox INBOX uid 1:10
	sp_log 'DOUBLEMAILBOX user.jay user.jay.Done'
	sp_replicate
	run_ok dv r mailbox status -u jay messages Done
	[ "${output##* }" = "messages=10" ]
	dv_same jay
}

@test "moving messages of one and the same size sends no bodies" {
	drop kai 40 same
	[ "$(find "$M/kai/Maildir/new" -type f -printf '%s\n' | sort -u |
	    wc -l)" -eq 1 ]
	run_ok dv m mailbox create -u kai Archive
	run_ok dv m move -u kai Archive mailbox INBOX all
	bundle_of 'DOUBLEMAILBOX user.kai user.kai.Archive'
	[ "$(grep -c '^ADD ' "$T/changes" || true)" -eq 0 ]
	[ "$(wc -c < "$T/bundle")" -lt $((bodies / 10)) ]
}
