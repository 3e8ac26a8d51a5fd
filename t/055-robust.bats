#!/usr/bin/env bats
# What careless operators and crashes do: old bundles applied late, two
# writers at once, killed writers, closed descriptors.

load helpers

setup() {
	sp_setup
	M=$T/M
	R=$T/R
	syncpipe-gen --seed 5 --users 1 --folders 2 --messages 30 "$M"
	sync-diff --all "$M" "$R" | sync-send "$M" > "$T/full"
	sync-apply "$R" < "$T/full" >/dev/null
}

@test "an old bundle applied after the replica moved on does not undo it" {
	inbox=$M/user1/Maildir
	rm "$inbox/cur/$(ls "$inbox/cur" | head -1)"
	f=$(ls "$inbox/cur" | tail -1)
	mv "$inbox/cur/$f" "$inbox/cur/${f%%:2,*}:2,DT"
	echo 'MAILBOX user.user1' | sync-diff "$M" "$R" | sync-send "$M" "$R" \
	    >/dev/null
	run_ok sync-diff --all --exit-code "$M" "$R"
	run_fails 75 sync-apply "$R" < "$T/full"
	[[ "$stderr" == *"the replica gave out this UID and expunged it"* ]]
	run_ok sync-diff --all --exit-code "$M" "$R"
}

@test "two sync-apply runs on one store take turns" {
	rm -rf "$R"
	sync-apply "$R" < "$T/full" > "$T/a1" 2>"$T/e1" &
	sync-apply "$R" < "$T/full" > "$T/a2" 2>"$T/e2" &
	wait
	[ -z "$(find "$R/.syncpipe" -path '*attic*' -type f 2>/dev/null)" ]
	run_ok sync-diff --all --exit-code "$M" "$R"
}

@test "staging left by a killed sync-apply is cleared by the next one" {
	mkdir -p "$R/.syncpipe/stage/2147483000.abcdef"
	head -c 100000 /dev/zero > "$R/.syncpipe/stage/2147483000.abcdef/0"
	run_ok sync-apply "$R" < "$T/full"
	[ ! -e "$R/.syncpipe/stage/2147483000.abcdef" ]
}

@test "a closed stdout is an error, not a lost batch" {
	echo 'USER user1' | sync-relog "$T/log"
	run_fails 74 sh -c 'synclog-tail -c "$0" >&-' "$T/log"
	[ -e "$T/log-run" ]
	[ "$(cat "$T/log-run")" = "USER user1" ]
}

@test "sync-apply on a file that is not a directory says so" {
	touch "$T/file"
	run_fails 73 sync-apply "$T/file" < "$T/full"
	[[ "$stderr" == *"not a directory"* ]]
}

@test "a new folder is not visible until it is complete" {
	syncpipe-gen --seed 9 --users 1 --folders 1 --messages 3000 "$T/B"
	sync-diff --all "$T/B" /dev/null | sync-send "$T/B" > "$T/big"
	sync-apply "$T/BR" < "$T/big" > /dev/null &
	pid=$!
	seen=
	for i in $(seq 1 2000); do
		hidden=$(find "$T/BR" -path '*/Maildir/tmp/syncpipe.*' \
		    -maxdepth 4 -type d 2>/dev/null | head -1)
		if [ -n "$hidden" ]; then
			kill -STOP "$pid"
			seen=$hidden
			break
		fi
		sleep 0.005
	done
	if [ -z "$seen" ]; then
		kill "$pid" 2>/dev/null; wait "$pid" || true
		skip "sync-apply was too quick to be caught building a folder"
	fi
	name=${seen##*/syncpipe.}
	name=.${name#*.}
	# the half-built folder is nowhere a reader looks
	[ ! -e "$(dirname "$(dirname "$seen")")/$name" ]
	kill -KILL "$pid"
	wait "$pid" || true
	run_ok sync-apply "$T/BR" < "$T/big"
	run_ok sync-diff --all --exit-code "$T/B" "$T/BR"
}

@test "run as root, sync-apply writes as the owner of the store" {
	[ "$(id -u)" = 0 ] || skip "needs root"
	id nobody >/dev/null 2>&1 || skip "no user nobody"
	# nobody must reach the store: not below the test's private tmpdir
	d=$(mktemp -d /tmp/syncpipe-owner.XXXXXX)
	chmod 755 "$d"
	mkdir "$d/RN"
	chown nobody "$d/RN"
	run_status 0 sync-apply "$d/RN" < "$T/full" || { rm -rf "$d"; false; }
	left=$(find "$d/RN" ! -user nobody)
	rm -rf "$d"
	[ -z "$left" ]
}
