#!/usr/bin/env bats
# A replica that its Dovecot has already opened and indexed: changes
# replicated afterwards must still show the master's UIDs; Dovecot never
# renumbers a replicated message.  Each test has a user of its own.

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

# deliver USER FIRST LAST [MAILBOX]: deliveries on the master, numbered.
deliver() {
	local i
	for i in $(seq "$2" "$3"); do
		dv_msg "$1-$i" | dv_deliver m "$1" ${4:+-m "$4"} || return 1
	done
}

# index USER: the replica's Dovecot opens every mailbox of USER (and so
# builds its index and cache).
index() {
	run_ok dv r -f tab fetch -u "$1" "mailbox uid guid" all
	[ -n "$(find "$R/$1" -name 'dovecot.index*')" ]
}

@test "messages delivered after Dovecot indexed the replica keep their UIDs" {
	deliver hal 1 3
	sp_log 'USER hal'
	sp_replicate
	index hal
	deliver hal 4 6
	sp_log 'APPEND user.hal'
	sp_replicate
	run_ok dv_messages r hal
	[ "$(cut -f2 <<< "$output" | tr '\n' ' ')" = "1 2 3 4 5 6 " ]
	dv_same hal
}

@test "flag changes and expunges after indexing leave the UIDs alone" {
	deliver ida 1 5
	sp_log 'USER ida'
	sp_replicate
	index ida
	run_ok dv m flags add -u ida '\Seen $Done' mailbox INBOX uid 2:4
	run_ok dv m expunge -u ida mailbox INBOX uid 3
	deliver ida 6 6
	sp_log 'MAILBOX user.ida'
	sp_replicate
	run_ok dv_messages r ida
	[ "$(cut -f2 <<< "$output" | tr '\n' ' ')" = "1 2 4 5 6 " ]
	dv_same ida
}

@test "a message put back below the index's next UID keeps its UID" {
	deliver jon 1 4
	sp_log 'USER jon'
	sp_replicate
	index jon
	# someone expunges UID 2 through the replica's Dovecot, which then
	# knows UID 2 as gone; replication brings the master's message back
	run_ok dv r expunge -u jon mailbox INBOX uid 2
	index jon
	sp_log 'MAILBOX user.jon'
	sp_replicate
	run_ok dv_messages r jon
	[ "$(cut -f2 <<< "$output" | tr '\n' ' ')" = "1 2 3 4 " ]
	dv_same jon
}

@test "the replica's own flag changes give way to the master's" {
	deliver kim 1 3
	sp_log 'USER kim'
	sp_replicate
	index kim
	run_ok dv r flags add -u kim '\Flagged' mailbox INBOX uid 1
	run_ok dv m flags add -u kim '\Seen' mailbox INBOX uid 1
	sp_log 'MAILBOX user.kim'
	sp_replicate
	run_ok dv_messages r kim
	[[ "${lines[0]}" == $'INBOX\t1\t\\Seen\t'* ]]
	dv_same kim
}

@test "a new folder after indexing shows the master's UIDs and GUID" {
	deliver lou 1 2
	sp_log 'USER lou'
	sp_replicate
	index lou
	deliver lou 3 5 Later
	# the delivery created the folder and subscribed it
	sp_log 'MAILBOX user.lou.Later' 'SUB lou user.lou.Later'
	sp_replicate
	index lou
	deliver lou 6 7 Later
	sp_log 'APPEND user.lou.Later'
	sp_replicate
	run_ok dv_messages r lou
	[ "$(grep -c '^Later' <<< "$output")" -eq 5 ]
	dv_same lou
}

@test "a replica opened many times agrees after every replicated batch" {
	local i
	for i in 1 2 3 4; do
		deliver meg $((i * 2 - 1)) $((i * 2))
		run_ok dv m flags add -u meg '\Seen' mailbox INBOX uid "$i"
		sp_log 'MAILBOX user.meg'
		sp_replicate
		index meg
		dv_same meg
	done
}
