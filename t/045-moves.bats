#!/usr/bin/env bats
# Renames, copies and moves reuse what the replica holds; split brain
# loses nothing.

load helpers

setup() {
	sp_setup
	M=$T/M
	R=$T/R
	syncpipe-gen --seed 11 --users 1 --folders 3 --messages 40 "$M"
	sync-diff --all "$M" "$R" | sync-send "$M" | sync-apply "$R" >/dev/null
}

# replicate ENTRY...: one batch through the pipeline, keeping the change
# list and the bundle for inspection.
replicate() {
	printf '%s\n' "$@" | sync-diff "$M" "$R" > "$T/changes" &&
	    sync-send "$M" < "$T/changes" > "$T/bundle" &&
	    sync-apply "$R" < "$T/bundle" > "$T/applied"
}

@test "a renamed folder is renamed on the replica without sending bodies" {
	guid=$(head -1 "$M/user1/Maildir/.Sent/dovecot-uidlist" |
	    grep -o 'G[0-9a-f]*')
	mv "$M/user1/Maildir/.Sent" "$M/user1/Maildir/.Sent Items"
	run_ok replicate 'RENAME user.user1.Sent "user.user1.Sent Items"'
	run grep -c '^ADD ' "$T/changes"
	[ "$output" = 0 ]
	grep -q '^RENAME user.user1.Sent "user.user1.Sent Items" ' "$T/changes"
	[ ! -e "$R/user1/Maildir/.Sent" ]
	grep -q " $guid" "$R/user1/Maildir/.Sent Items/dovecot-uidlist"
	run_ok sync-diff --all --exit-code "$M" "$R"
}

@test "copied and moved messages are not sent again" {
	inbox=$M/user1/Maildir
	n=0
	for f in $(ls "$inbox/cur" | head -20); do
		n=$((n + 1))
		cp -p "$inbox/cur/$f" \
		    "$inbox/.Archive/cur/1800000000.M${n}P1Q1.copy:2,S"
	done
	for f in $(ls "$inbox/cur" | tail -10); do
		n=$((n + 1))
		mv "$inbox/cur/$f" "$inbox/.Sent/cur/1800000000.M${n}P2Q1.move:2,"
	done
	run_ok replicate 'DOUBLEMAILBOX user.user1 user.user1.Archive' \
	    'DOUBLEMAILBOX user.user1 user.user1.Sent' 'MAILBOX user.user1'
	[ "$(grep -c '^COPY ' "$T/changes")" -eq 30 ]
	[ "$(grep -c '^ADD ' "$T/changes")" -eq 0 ]
	[ "$(grep -c '^EXPUNGE user.user1 ' "$T/changes")" -eq 10 ]
	# the bundle is a few lines per message, no bodies
	[ "$(stat -c %s "$T/bundle")" -lt 20000 ]
	run_ok sync-diff --all --exit-code "$M" "$R"
}

@test "a copy whose source left the replica is refused, then sent" {
	inbox=$M/user1/Maildir
	f=$(ls "$inbox/cur" | head -1)
	cp -p "$inbox/cur/$f" "$inbox/.Archive/cur/1800000000.M1P1Q1.copy:2,"
	echo 'DOUBLEMAILBOX user.user1 user.user1.Archive' |
	    sync-diff "$M" "$R" > "$T/changes"
	grep -q '^COPY ' "$T/changes"
	rm "$R/user1/Maildir/cur/$(ls "$R/user1/Maildir/cur" | grep "^${f%%:*}")"
	run_fails 75 sh -c 'sync-send "$0" < "$1" | sync-apply "$2"' \
	    "$M" "$T/changes" "$R"
	[[ "$stderr" == *"the message to copy is not on the replica"* ]]
	run_ok replicate 'MAILBOX user.user1.Archive'
	grep -q '^ADD ' "$T/changes"
}

# deliver_to STORE N: N new messages in user1's INBOX of STORE, numbered
# there the way Dovecot would.
deliver_to() {
	syncpipe-gen --deliver "$2" --user user1 "$1"
	sync-diff --split-brain report -m user.user1 "$1" /dev/null >/dev/null
}

@test "split brain: messages delivered only to the replica reach the master" {
	deliver_to "$R" 2
	deliver_to "$M" 1
	before=$(find "$R/user1/Maildir/cur" "$R/user1/Maildir/new" -type f \
	    -printf '%f\n' | sed 's/:.*//' | sort)
	run_ok replicate 'MAILBOX user.user1'
	[[ "$stderr" == *"found only on the replica were copied to the master"* ]]
	# every message the replica had is now on both sides
	for b in $before; do
		[ -n "$(find "$M/user1/Maildir/cur" "$M/user1/Maildir/new" \
		    -name "$b*")" ]
		[ -n "$(find "$R/user1/Maildir/cur" -name "$b*")" ]
	done
	run_ok sync-diff --all --exit-code "$M" "$R"
}

@test "split brain with --split-brain report deletes nothing" {
	deliver_to "$R" 1
	deliver_to "$M" 1
	count=$(find "$R/user1/Maildir/cur" "$R/user1/Maildir/new" -type f |
	    wc -l)
	printf 'MAILBOX user.user1\n' |
	    sync-diff --split-brain report "$M" "$R" > "$T/changes"
	grep -q '^CONFLICT user.user1 ' "$T/changes"
	run_ok sh -c 'sync-send "$0" < "$1" | sync-apply "$2"' "$M" \
	    "$T/changes" "$R"
	[ "$(find "$R/user1/Maildir/cur" "$R/user1/Maildir/new" -type f |
	    wc -l)" -ge "$count" ]
}

@test "a folder made on the replica alone is copied to the master" {
	mkdir -p "$R/user1/Maildir/.Failover"/{cur,new,tmp}
	touch "$R/user1/Maildir/.Failover/maildirfolder"
	cp -p "$R/user1/Maildir/cur/$(ls "$R/user1/Maildir/cur" | head -1)" \
	    "$R/user1/Maildir/.Failover/cur/1800000000.M1P9Q1.replica:2,S"
	sync-diff --split-brain report -m user.user1.Failover "$R" /dev/null \
	    >/dev/null
	run_ok replicate 'USER user1'
	[[ "$stderr" == *"only on the replica: copied to the master"* ]]
	[ -n "$(find "$M/user1/Maildir/.Failover" -name '1800000000.M1P9Q1*')" ]
	run_ok sync-diff --all --exit-code "$M" "$R"
}

@test "a folder the master deleted is kept aside on the replica" {
	rm -rf "$M/user1/Maildir/.Sent"
	run_ok replicate 'UNMAILBOX user.user1.Sent'
	[ ! -e "$R/user1/Maildir/.Sent" ]
	[ -n "$(find "$R/.syncpipe/attic" -name 'dovecot-uidlist' -path '*Sent*')" ]
}

@test "a folder made anew on the replica keeps its mail through the replace" {
	# the replica's Sent was deleted and made again while it served
	uv=$(head -1 "$R/user1/Maildir/.Sent/dovecot-uidlist" | grep -o ' V[0-9]*')
	sed -i "1s/$uv/ V7/" "$R/user1/Maildir/.Sent/dovecot-uidlist"
	cp -p "$R/user1/Maildir/cur/$(ls "$R/user1/Maildir/cur" | head -1)" \
	    "$R/user1/Maildir/.Sent/cur/1800000000.M7P7Q7.replica:2,"
	sync-diff --split-brain report -m user.user1.Sent "$R" /dev/null \
	    >/dev/null
	run_ok sh -c 'echo "MAILBOX user.user1.Sent" |
	    sync-diff --split-brain report "$0" "$1"' "$M" "$R"
	[[ "$output" == *"CONFLICT user.user1.Sent "* ]]
	run_ok replicate 'MAILBOX user.user1.Sent'
	[ -n "$(find "$M/user1/Maildir/.Sent" -name '1800000000.M7P7Q7*')" ]
	[ -n "$(find "$R/user1/Maildir/.Sent" -name '1800000000.M7P7Q7*')" ]
	run_ok sync-diff --all --exit-code "$M" "$R"
}
