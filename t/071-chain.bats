#!/usr/bin/env bats
# Chains and fan-out: Master -> R1 -> R2, where R1 re-logs what it applied
# for a second consumer, and Master -> R1 plus Master -> R2 over two
# channels with a consumer each.  Both converge after a mixed workload.

load helpers

teardown() {
	local p
	for p in ${pids[@]:-}; do
		kill -TERM "$p" 2>/dev/null
	done
	wait 2>/dev/null
	return 0
}

# wait_for CMD...: up to 60 s until CMD succeeds.
wait_for() {
	local i
	for i in $(seq 600); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# drained LOG...: no entry waits in any of the logs.
drained() {
	local l
	for l in "$@"; do
		[ ! -e "$l" ] && [ ! -e "$l-run" ] || return 1
	done
}

# consumer LOG FROM TO: a rolling consumer of LOG replicating FROM to TO,
# re-logging what TO applied in TO.log.
consumer() {
	local pipe="sync-diff $2 $3 | sync-send $2 | sync-apply $3"
	synclog-tail -q -c -f -i 0.05 --max-backoff 0.5 "$1" -e \
	    "$pipe | sync-relog -F $3.log" 2>> "$1.err" 3>&- &
	pids+=($!)
}

stop_consumers() {
	local p
	for p in "${pids[@]}"; do
		kill -TERM "$p"
		wait "$p"
	done
	pids=()
}

# log LOGS ENTRY...: appends the entries to every log in LOGS (a list).
log() {
	local logs=$1
	shift
	printf '%s\n' "$@" | sync-relog $logs
}

# workload LOGS: a mix of changes on M, each logged as a server would.
workload() {
	local logs=$1 cur f flags
	syncpipe-gen --seed 11 --deliver 3 --user user1 M > /dev/null
	log "$logs" "APPEND user.user1" "MAILBOX user.user1"
	syncpipe-gen --seed 12 --deliver 2 --user fred@example.com M >/dev/null
	log "$logs" "APPEND example.com!user.fred"
	# A flag change and an expunge.
	cur=M/user1/Maildir/cur
	f=$(ls "$cur" | head -n 1)
	mv "$cur/$f" "$cur/${f%%:2,*}:2,FS"
	f=$(ls M/user2/Maildir/.Archive/cur | head -n 1)
	rm "M/user2/Maildir/.Archive/cur/$f"
	log "$logs" "MAILBOX user.user1" "MAILBOX user.user2.Archive"
	# A new folder, subscribed, with mail; a folder deleted.
	mkdir -p M/user1/Maildir/.Projects.New/{cur,new,tmp}
	: > M/user1/Maildir/.Projects.New/maildirfolder
	syncpipe-gen --seed 13 --deliver 2 --user user1 \
	    --folder Projects.New M > /dev/null
	printf 'Projects\tNew\n' >> M/user1/Maildir/subscriptions
	log "$logs" "MAILBOX user.user1.Projects.New" \
	    "SUB user1 user.user1.Projects.New"
	rm -rf M/user2/Maildir/.Trash
	log "$logs" "UNMAILBOX user.user2.Trash"
	# A copy between folders, a Sieve change, a whole user.
	f=$(ls M/user2/Maildir/cur | head -n 1)
	cp -p "M/user2/Maildir/cur/$f" "M/user2/Maildir/.Sent/new/${f%%:2,*}"
	log "$logs" "DOUBLEMAILBOX user.user2 user.user2.Sent"
	printf '\n# changed\n' >> M/user1/sieve/main.sieve
	log "$logs" "SIEVE user1"
	syncpipe-gen --seed 14 --deliver 4 --user user2 M > /dev/null
	log "$logs" "USER user2"
}

mkstores() {
	mkstore M --users 2 --folders 5 --messages 8
	mkstore M --seed 2 --users 1 --folders 3 --messages 5 \
	    --domain example.com
	mkdir R1 R2
	pids=()
}

# converged A B: sync-diff finds nothing to do between A and B.
converged() {
	run_ok sync-diff --all --exit-code "$1" "$2"
}

@test "chain: M -> R1 -> R2 converges after a mixed workload" {
	mkstores
	log M.log "USER user1" "USER user2" "USER fred@example.com"
	consumer M.log M R1
	consumer R1.log R1 R2
	workload M.log
	wait_for drained M.log R1.log
	stop_consumers
	converged M R1
	converged R1 R2
	converged M R2
}

@test "chain: R2 catches up after R1's consumer was down a while" {
	mkstores
	log M.log "USER user1" "USER user2" "USER fred@example.com"
	consumer M.log M R1
	workload M.log
	wait_for drained M.log
	# R1 is there, R2 has nothing yet: R1's log kept what R1 applied.
	converged M R1
	[ -s R1.log ]
	run_fails 1 sync-diff --all --exit-code R1 R2
	consumer R1.log R1 R2
	wait_for drained R1.log
	stop_consumers
	converged M R2
}

@test "fan-out: two channels, one consumer each, both converge" {
	mkstores
	mkdir -p ch/r1 ch/r2
	log "ch/r1/log ch/r2/log" "USER user1" "USER user2" \
	    "USER fred@example.com"
	consumer ch/r1/log M R1
	consumer ch/r2/log M R2
	workload "ch/r1/log ch/r2/log"
	wait_for drained ch/r1/log ch/r2/log
	stop_consumers
	converged M R1
	converged M R2
}

@test "fan-out: a channel whose consumer is down holds back only itself" {
	mkstores
	mkdir -p ch/r1 ch/r2
	log "ch/r1/log ch/r2/log" "USER user1" "USER user2" \
	    "USER fred@example.com"
	consumer ch/r1/log M R1
	workload "ch/r1/log ch/r2/log"
	wait_for drained ch/r1/log
	converged M R1
	[ -s ch/r2/log ]
	consumer ch/r2/log M R2
	wait_for drained ch/r2/log
	stop_consumers
	converged M R2
}
