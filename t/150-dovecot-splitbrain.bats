#!/usr/bin/env bats
# Split brain without loss.  After a failover the replica's Dovecot takes
# deliveries of its own, possibly under UIDs that the master gives to other
# messages meanwhile.  When replication resumes, no message is deleted on
# either side: every message of either side ends up on both, the master's
# messages under the master's UIDs.  A UIDVALIDITY change on the master
# replaces the replica's mailbox and keeps the old one aside.  A user per
# test.

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

# deliver NAME USER FIRST LAST [MAILBOX]: numbered deliveries.
deliver() {
	local i
	for i in $(seq "$3" "$4"); do
		dv_msg "$2-$1-$i" | dv_deliver "$1" "$2" ${5:+-m "$5"} ||
		    return 1
	done
}

# ids NAME USER [MAILBOX]: "UID MESSAGE-ID" of every message, by UID.
ids() {
	dv "$1" -f tab fetch -u "$2" "uid hdr.message-id" mailbox \
	    "${3:-INBOX}" all | tail -n +2 | sort -n
}

# split USER: three messages replicated; then the master is given up, the
# replica takes two deliveries and the master (back again) two others:
# UIDs 4 and 5 hold different messages on the two sides.
split() {
	deliver m "$1" 1 3
	sp_log "USER $1"
	sp_replicate
	deliver r "$1" 4 5
	deliver m "$1" 4 5
	dv_own "$M" "$R"
	run_ok ids m "$1"
	master_before=$output
	run_ok ids r "$1"
	replica_before=$output
	[[ "$replica_before" == *"4	<$1-r-4@test>"* ]]
	[[ "$master_before" == *"4	<$1-m-4@test>"* ]]
}

# resume USER: replication resumes (two batches: the first may change the
# master, the second checks that nothing is left to do).
resume() {
	sp_log "USER $1"
	sp_replicate
	sp_log "MAILBOX user.$1"
	sp_replicate
}

@test "no message of either side is lost when replication resumes" {
	split bea
	resume bea
	run_ok ids m bea
	m_after=$(cut -f2 <<< "$output" | sort)
	run_ok ids r bea
	r_after=$(cut -f2 <<< "$output" | sort)
	[ "$m_after" = "$r_after" ]
	for id in $(printf '%s\n%s\n' "$master_before" "$replica_before" |
	    cut -f2); do
		grep -qxF -- "$id" <<< "$m_after"
	done
	[ "$(wc -l <<< "$m_after")" -eq 7 ]
}

@test "the master's messages keep the master's UIDs on the replica" {
	split cal
	resume cal
	run_ok ids r cal
	while read -r line; do
		grep -qxF -- "$line" <<< "$output"
	done <<< "$master_before"
}

@test "after the split brain both Dovecots show the same" {
	split dee
	resume dee
	dv_same dee
	run_ok sync-diff -u dee --exit-code "$M" "$R"
}

@test "the split-brain policy 'report' changes nothing and reports" {
	split eli
	sp_log 'MAILBOX user.eli'
	run_ok synclog-tail --consume "$DV_TOP/M.log" --exec \
	    'sync-diff --split-brain report "$M" "$R" | sync-send "$M" |
	    sync-apply "$R" | sync-relog -F "$DV_TOP/R.log"'
	dv_own "$M" "$R"
	[[ "$stderr" == *"user.eli"* ]]
	run_ok ids m eli
	[ "$output" = "$master_before" ]
	run_ok ids r eli
	[[ "$output" == *"<eli-r-4@test>"* ]]
	[[ "$output" == *"<eli-r-5@test>"* ]]
}

@test "replica-only messages above the master's next UID are kept" {
	deliver m fox 1 2
	sp_log 'USER fox'
	sp_replicate
	deliver r fox 3 4
	dv_own "$R"
	resume fox
	run_ok ids m fox
	[ "$(wc -l <<< "$output")" -eq 4 ]
	[[ "$output" == *"<fox-r-3@test>"* ]]
	[[ "$output" == *"<fox-r-4@test>"* ]]
	dv_same fox
}

@test "a UIDVALIDITY change on the master replaces the replica's mailbox" {
	deliver m gus 1 3 Box
	sp_log 'USER gus'
	sp_replicate
	run_ok dv r mailbox status -u gus uidvalidity Box
	old=${output##*=}
	run_ok dv m mailbox update -u gus --uid-validity 4242 Box
	sp_log 'MAILBOX user.gus.Box'
	sp_replicate
	run_ok dv r mailbox status -u gus uidvalidity Box
	[ "${output##*=}" = 4242 ]
	dv_same gus
	# the old mailbox is kept aside with its messages
	run_ok grep -rl "^3 V$old " "$R/.syncpipe/attic"
	kept=$(dirname "${lines[0]}")
	[ "$(count_messages "$kept")" -eq 3 ]
}

@test "a folder the replica made while it served is not deleted" {
	deliver m hil 1 1
	sp_log 'USER hil'
	sp_replicate
	# while the replica serves, its Sieve files mail into a new folder
	printf 'require "fileinto";\nfileinto "Failover";\n' > "$T/f.sieve"
	run_ok dv r sieve put -u hil -a main < "$T/f.sieve"
	deliver r hil 2 3
	dv_own "$R"
	run_ok ids r hil Failover
	[ "${#lines[@]}" -eq 2 ]
	resume hil
	run_ok ids r hil Failover
	[[ "$output" == *"<hil-r-2@test>"* ]]
	[[ "$output" == *"<hil-r-3@test>"* ]]
	run_ok ids m hil Failover
	[[ "$output" == *"<hil-r-2@test>"* ]]
	[[ "$output" == *"<hil-r-3@test>"* ]]
}

@test "failing back with the roles swapped keeps what either side did" {
	deliver m ken 1 2
	sp_log 'USER ken'
	sp_replicate
	# the master takes one more delivery that never leaves it, then the
	# replica serves: two deliveries and a flag change
	deliver m ken 3 3
	deliver r ken 3 4
	run_ok dv r flags add -u ken '\Seen' mailbox INBOX uid 1
	dv_own "$M" "$R"
	# the replica is the master now, the old master its replica
	run_ok sh -c 'sync-diff -u ken "$0" "$1" | sync-send "$0" "$1"' \
	    "$R" "$M"
	dv_own "$M" "$R"
	run_ok ids r ken
	[ "$(cut -f2 <<< "$output" | sort)" = "$(printf '<ken-%s@test>\n' \
	    m-1 m-2 m-3 r-3 r-4)" ]
	run_ok dv_messages m ken
	[[ "${lines[0]}" == $'INBOX\t1\t\\Seen\t'* ]]
	dv_same ken
}
