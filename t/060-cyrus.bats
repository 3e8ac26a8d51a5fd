#!/usr/bin/env bats
# Real Cyrus 3.6 sync logs: every file a Cyrus server wrote reads and
# prints back the same, every line type is understood, and Cyrus's mailbox
# names find the right place in a Maildir store.

load helpers

CYRUS="$BATS_TEST_DIRNAME/fixtures/cyrus"

# roundtrip FILE: printing FILE gives FILE back, and printing that again
# gives the same.
roundtrip() {
	synclog-tail "$1" > once 2> err || { cat err; return 1; }
	[ ! -s err ] || { cat err; return 1; }
	cmp once "$1" || return 1
	synclog-tail once > twice && cmp once twice
}

@test "cyrus: every log of ../shared reads and prints back unchanged" {
	need_shared fixtures/cyrus-synclog
	n=0
	for f in "$shared"/*.log "$shared"/steps/*.log "$shared"/extras/*.log \
	    "$shared"/perf/*.synclog; do
		[ -s "$f" ] || continue
		roundtrip "$f" || { echo "differs: $f"; false; }
		n=$((n + 1))
	done
	[ "$n" -gt 90 ]
}

@test "cyrus: the logs under t/fixtures read and print back unchanged" {
	for f in "$CYRUS"/*.log; do
		roundtrip "$f" || { echo "differs: $f"; false; }
	done
}

@test "cyrus: the master's log has every type Cyrus writes" {
	run_ok synclog-tail -s "$CYRUS/all-master.log"
	for t in USER UNUSER MAILBOX APPEND DOUBLEMAILBOX RENAME UNMAILBOX \
	    QUOTA ANNOTATION SEEN SUB; do
		[[ "$output" == *"type $t "* ]] || { echo "no $t"; false; }
	done
}

@test "cyrus: quoted names with spaces and the empty name survive" {
	run_ok synclog-tail -j -t annotation,rename "$CYRUS/all-master.log"
	[ "${lines[0]}" = "{\"file\":\"$CYRUS/all-master.log\",\"line\":64,\"type\":\"RENAME\",\"args\":[\"user.alice.Work.Projects\",\"user.alice.Work.Proj-Renamed\"],\"users\":[\"alice\"]}" ]
	run_ok synclog-tail -t annotation "$CYRUS/all-master.log"
	[ "$output" = 'ANNOTATION ""' ]
	run_ok synclog-tail -j -m '*Old Stuff*' -t RENAME \
	    "$CYRUS/all-master.log"
	[[ "${lines[0]}" == *'"args":["user.alice.Old Stuff","DELETED.user.alice.Old Stuff.6B115F58"]'* ]]
}

@test "cyrus: SEEN names a user and a mailbox uniqueid" {
	run_ok synclog-tail -j -t SEEN "$CYRUS/all-master.log"
	[[ "${lines[0]}" == *'"type":"SEEN","args":["bob","8cg3gf1vivqq8u8tie59hz79"],"users":["bob"]}' ]]
}

@test "cyrus: a user delete is UNUSER, a user rename UNUSER and USER" {
	run_ok synclog-tail -t USER,UNUSER "$CYRUS/all-master.log"
	[ "$output" = "$(printf 'UNUSER carol\nUNUSER bob\nUSER robert')" ]
}

@test "cyrus: the chained replica's log reads too" {
	run_ok synclog-tail -s "$CYRUS/all-replica-chain.log"
	[ "${lines[0]}" = "entries 174" ]
	[[ "$output" == *"type SEEN 1"* ]]
	[[ "$output" != *DOUBLEMAILBOX* ]]
}

@test "cyrus: a dotted user id is written with ^ and found by --user" {
	run_ok synclog-tail -u john.doe "$CYRUS/all-master.log"
	[ "$output" = "$(printf '%s\n' 'MAILBOX user.john^doe' \
	    'APPEND user.john^doe' 'MAILBOX user.john^doe' \
	    'SUB john.doe user.john^doe')" ]
}

# A master with a dotted user, a user in a domain and folders whose names
# are modified UTF-7 on disk, as Cyrus names them in its log.
mkmaster() {
	local f
	mkstore M --users 1 --folders 2 --messages 3
	mkstore M --seed 2 --users 1 --folders 2 --messages 3 \
	    --domain example.com
	cp -a M/user1 M/john.doe
	for f in 'john.doe/Maildir/.Entw&APw-rfe' \
	    'john.doe/Maildir/.Caf&AOk- Cr&AOg-me' \
	    'example.com/fred/Maildir/.&ZeVnLIqe-' \
	    'example.com/fred/Maildir/.&ZeVnLIqe-.&MOEw4g-' \
	    'example.com/fred/Maildir/.Tom &- Jerry'; do
		mkdir -p "M/$f/cur" "M/$f/new" "M/$f/tmp"
		: > "M/$f/maildirfolder"
	done
	run_ok syncpipe-gen --seed 3 --deliver 2 --user john.doe \
	    --folder 'Entw&APw-rfe' M
	run_ok syncpipe-gen --seed 4 --deliver 2 --user john.doe \
	    --folder 'Caf&AOk- Cr&AOg-me' M
	run_ok syncpipe-gen --seed 5 --deliver 1 --user fred@example.com \
	    --folder '&ZeVnLIqe-.&MOEw4g-' M
	run_ok syncpipe-gen --seed 6 --deliver 1 --user fred@example.com \
	    --folder 'Tom &- Jerry' M
	mkdir R
}

# Every message of a store: mailbox directory, base name, size.
messages() {
	(cd "$1" && find . \( -path '*/cur/*' -o -path '*/new/*' \) \
	    -type f -printf '%h %f %s\n' |
	    sed -e 's#/\(cur\|new\) # #' -e 's/:2,[^ ]*//' | sort)
}

# The messages of one mailbox directory, by base name.
listing() {
	(cd "$1" && find cur new -type f -printf '%f\n' | sed 's/:2,.*//' |
	    sort)
}

@test "cyrus: mailbox entries in Cyrus form reach the right folders" {
	mkmaster
	cat > log <<'EOF2'
MAILBOX user.john^doe.Entw&APw-rfe
MAILBOX "user.john^doe.Caf&AOk- Cr&AOg-me"
APPEND example.com!user.fred.&ZeVnLIqe-.&MOEw4g-
MAILBOX "example.com!user.fred.Tom &- Jerry"
EOF2
	run_sh_ok 'synclog-tail log | sync-diff M R | sync-send M |
	    sync-apply R | sync-relog -F R.log'
	for f in 'john.doe/Maildir/.Entw&APw-rfe' \
	    'john.doe/Maildir/.Caf&AOk- Cr&AOg-me' \
	    'example.com/fred/Maildir/.&ZeVnLIqe-.&MOEw4g-' \
	    'example.com/fred/Maildir/.Tom &- Jerry'; do
		[ -d "R/$f" ] || { echo "missing: R/$f"; false; }
		[ "$(listing "M/$f")" = "$(listing "R/$f")" ]
	done
	[ ! -e R/user1 ]
	# The replica logs what it applied, for the next hop of a chain.
	[ "$(cat R.log)" = "$(cat <<'EOF2'
MAILBOX example.com!user.fred.&ZeVnLIqe-.&MOEw4g-
MAILBOX "example.com!user.fred.Tom &- Jerry"
MAILBOX "user.john^doe.Caf&AOk- Cr&AOg-me"
MAILBOX user.john^doe.Entw&APw-rfe
EOF2
)" ]
}

@test "cyrus: user entries in Cyrus form make the replica equal" {
	mkmaster
	printf '%s\n' 'USER john.doe' 'USER fred@example.com' 'USER user1' \
	    'SUB john.doe user.john^doe' > log
	run_sh_ok 'synclog-tail log | sync-diff M R | sync-send M |
	    sync-apply R | sync-relog -F R.log'
	run_ok sync-diff --all --exit-code M R
	# Keyword letters may differ, the messages are the same.
	messages M > M.list
	messages R > R.list
	diff -u M.list R.list
}
