#!/usr/bin/env bats
# Coalescing a batch as Cyrus does, --raw to hand every entry on, and a
# batch of 100,000 entries in bounded memory.

load helpers

tool() {
	local objdir=build
	[ -e "$SP_BIN/.flavour-san" ] && objdir=build-san
	echo "$SP_TOP/$objdir/t/tools/$1"
}

# biglog N FILE: N entries for three users u1..u3: deliveries and changes
# to their INBOX and five folders, subscriptions and non-owner seen state,
# and a USER u2 at the end.
biglog() {
	awk -v n="$1" 'BEGIN {
		for (i = 0; i < n - 1; i++) {
			u = "u" (i % 3 + 1)
			f = i % 5
			r = i % 7
			if (r == 0) print "MAILBOX user." u
			else if (r == 1) print "APPEND user." u
			else if (r == 2) print "APPEND user." u ".Folder" f
			else if (r == 3) print "MAILBOX \"user." u ".Old Sent\""
			else if (r == 4) print "SUB " u " user." u ".Folder" f
			else if (r == 5) print "SEEN " u " 8cg3gf1vivqq8u8t" f
			else print "MAILBOX user." u ".Folder" f
		}
		print "USER u2"
	}' > "$2"
}

@test "coalesce: duplicates collapse, APPEND is MAILBOX, grouped by user" {
	printf '%s\n' 'APPEND user.a' 'MAILBOX user.b' 'MAILBOX user.a' \
	    'APPEND user.a.Sent' 'SUB b user.b' 'MAILBOX user.a.Sent' \
	    'QUOTA user.a' 'ANNOTATION ""' > log
	run_ok synclog-tail -q -c log
	[ "$output" = "$(printf '%s\n' 'MAILBOX user.a' 'MAILBOX user.a.Sent' \
	    'QUOTA user.a' 'MAILBOX user.b' 'SUB b user.b' 'ANNOTATION ""')" ]
}

@test "coalesce: USER u makes u's META, SIEVE, SEEN, SUB, UNSUB redundant" {
	printf '%s\n' 'SUB a user.a' 'SEEN a 1234' 'META a' 'SIEVE a' \
	    'UNSUB a user.a.x' 'MAILBOX user.a' 'USER a' 'SUB b user.b' > log
	run_ok synclog-tail -q -c log
	[ "$output" = "$(printf '%s\n' 'MAILBOX user.a' 'USER a' \
	    'SUB b user.b')" ]
}

@test "coalesce: UNUSER u makes everything of u before it redundant" {
	printf '%s\n' 'MAILBOX user.a' 'USER a' 'SUB a user.a' \
	    'MAILBOX user.b' 'UNUSER a' 'MAILBOX user.a' > log
	run_ok synclog-tail -q -c log
	[ "$output" = "$(printf '%s\n' 'UNUSER a' 'MAILBOX user.a' \
	    'MAILBOX user.b')" ]
}

@test "coalesce: --raw hands every entry on, in order" {
	printf '%s\n' 'APPEND user.a' 'APPEND user.a' 'USER a' 'SUB a x' > in
	cp in log
	run_ok synclog-tail -c --raw -e 'cat > out' log
	[ "$(cat out)" = "$(cat in)" ]
	[[ "$stderr" == "synclog-tail: batch: 4 entries, 4 objects, "* ]]
}

@test "coalesce: 100,000 entries for three users are a handful of objects" {
	biglog 100000 log
	run_ok synclog-tail -c -e 'cat > out' log
	[[ "$stderr" =~ ^"synclog-tail: batch: 100000 entries, 42 objects, " ]]
	[ "$(wc -l < out)" -eq 42 ]
	# Every mailbox and every user named is still there.
	[ "$(grep -c '^MAILBOX ' out)" -eq 21 ]
	[ "$(grep -c '^SUB ' out)" -eq 10 ]
	[ "$(grep -c '^SEEN ' out)" -eq 10 ]
	grep -qx 'USER u2' out
	! grep -q ' u2 ' out
	# Grouped by user: u1's 17 objects first, then u2's 8.
	[ "$(head -n 17 out | grep -vc '[. ]u1\>')" -eq 0 ]
	[ "$(sed -n '18,25p' out | grep -vc '[. ]u2\>')" -eq 0 ]
}

@test "coalesce: memory does not grow with the entries of a batch" {
	# ASan keeps freed memory aside for a while; keep that small.
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1
	biglog 100000 log
	run_ok "$(tool maxrss)" small synclog-tail -q -c -e 'cat > out1' log
	biglog 1000000 log
	run_ok "$(tool maxrss)" big synclog-tail -q -c -e 'cat > out2' log
	cmp out1 out2
	small=$(cat small)
	big=$(cat big)
	echo "peak memory: $small kB for 100,000, $big kB for 1,000,000"
	# Reading the 1,000,000 entries whole would take 25 MB more.
	[ "$big" -lt $((small + 4096)) ]
}
