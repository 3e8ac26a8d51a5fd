#!/usr/bin/env bats
# Bad change lists, bundles and names: a clear error, a distinct status,
# and nothing already stored is harmed.

load helpers

setup() {
	M=$BATS_TEST_TMPDIR/M
	R=$BATS_TEST_TMPDIR/R
	B=$BATS_TEST_TMPDIR/bundle
	syncpipe-gen --seed 3 --users 1 --folders 2 --messages 6 "$M"
	sync-diff --all "$M" "$R" | sync-send "$M" | sync-apply "$R" >/dev/null
	syncpipe-gen --deliver 4 --user user1 "$M"
	echo 'USER user1' | sync-diff "$M" "$R" | sync-send "$M" > "$B"
}

state() {
	(cd "$R" && find . -path ./.syncpipe -prune -o -print0 |
	    LC_ALL=C sort -z | xargs -0 stat -c '%n %s %Y' | md5sum)
}

@test "every truncation of a bundle is refused and leaves the store alone" {
	before=$(state)
	size=$(stat -c %s "$B")
	for cut in 0 1 20 $((size / 3)) $((size / 2)) $((size - 80)) \
	    $((size - 1)); do
		run sh -c 'head -c "$0" "$1" | sync-apply "$2"' "$cut" "$B" "$R"
		[ "$status" -eq 65 ]
		[[ "$output" == *"bundle refused, the store was not changed"* ]]
		[ "$(state)" = "$before" ]
	done
	[ -z "$(find "$R/.syncpipe/stage" -type f 2>/dev/null)" ]
}

@test "a changed byte in a body is refused with its line" {
	before=$(state)
	off=$(grep -abo '^Subject' "$B" | head -1 | cut -d: -f1)
	printf 'X' | dd of="$B" bs=1 seek="$off" conv=notrunc status=none
	run sync-apply "$R" < "$B"
	[ "$status" -eq 65 ]
	[[ "$output" == *"stdin:"*"body hash mismatch"* ]]
	[ "$(state)" = "$before" ]
}

@test "a bundle of a newer version is refused naming both versions" {
	run sh -c 'printf "%%syncpipe bundle 2\n%%end 0 x\n" | sync-apply "$0"' "$R"
	[ "$status" -eq 76 ]
	[[ "$output" == *"version 2; this program reads version 1"* ]]
}

@test "a change list is not accepted as a bundle" {
	run sh -c 'printf "%%syncpipe changes 1\n%%end 0\n" | sync-apply "$0"' "$R"
	[ "$status" -eq 65 ]
	[[ "$output" == *"stdin:1:"* ]]
}

@test "a malformed change list line is named by its line" {
	run sh -c 'printf "%%syncpipe changes 1\nADD user.user1 x\n%%end 1\n" |
	    sync-send "$0"' "$M"
	[ "$status" -eq 65 ]
	[[ "$output" == *"stdin:2: ADD record with 2 fields"* ]]
}

@test "a change list cut short gives a bundle that sync-apply refuses" {
	echo 'USER user1' | sync-diff --all "$M" /dev/null | head -n 5 \
	    > "$BATS_TEST_TMPDIR/c"
	run sh -c 'sync-send "$0" < "$1" | sync-apply "$2"' "$M" \
	    "$BATS_TEST_TMPDIR/c" "$R"
	[ "$status" -eq 65 ]
	[[ "$output" == *"without its tail"* ]]
}

@test "mailbox names that would leave the store are refused" {
	for name in 'user.user1...x' 'user../etc' 'user.a/b' 'user.user1../x'; do
		run sh -c 'printf "MAILBOX %s\n" "$0" |
		    sync-diff "$1" "$2"' "$name" "$M" "$R"
		[ "$status" -eq 65 ]
		[[ "$output" == *"stdin:1: refusing name"* ]]
	done
}

@test "a bundle naming a path outside the store is refused" {
	before=$(state)
	for name in 'user.user1.x/../../../etc' 'user...' 'user.user1..a'; do
		printf '%%syncpipe bundle 1\nUNMAILBOX %s - 1\n' "$name" \
		    > "$BATS_TEST_TMPDIR/evil"
		run sync-apply "$R" < "$BATS_TEST_TMPDIR/evil"
		[ "$status" -eq 65 ]
		[[ "$output" == *"stdin:2: bad mailbox name"* ]]
	done
	printf '%%syncpipe bundle 1\nUNSIEVE user1 ../../x\n' \
	    > "$BATS_TEST_TMPDIR/evil"
	run sync-apply "$R" < "$BATS_TEST_TMPDIR/evil"
	[ "$status" -eq 65 ]
	[ "$(state)" = "$before" ]
}

@test "a user home that is a symlink out of the store is refused" {
	mkdir "$BATS_TEST_TMPDIR/outside"
	rm -rf "$R/user1"
	ln -s "$BATS_TEST_TMPDIR/outside" "$R/user1"
	run sync-apply "$R" < "$B"
	[ "$status" -eq 77 ]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/outside")" ]
}

@test "a NUL byte in a change list is reported" {
	run sh -c 'printf "%%syncpipe changes 1\nEXPUNGE user.user1 1 a\0b\n%%end 1\n" |
	    sync-send "$0"' "$M"
	[ "$status" -eq 65 ]
	[[ "$output" == *"stdin:2:"* ]]
}
