#!/usr/bin/env bats
# Names: folders with spaces, non-ASCII names (modified UTF-7 on disk),
# deep hierarchies and users in domains replicate and show the same in the
# replica's Dovecot.  A user per test.

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

# fill USER FOLDER...: creates each folder on the master (subscribed) and
# delivers one message into it.
fill() {
	local user=$1 f
	shift
	for f in "$@"; do
		run_ok dv m mailbox create -s -u "$user" "$f"
		dv_msg "$user-$f" "in $f" | dv_deliver m "$user" -m "$f" ||
		    return 1
	done
}

@test "folders with spaces and punctuation" {
	fill rob 'Old Stuff' 'Tom & Jerry' 'a  b' '(Paren) {brace} "q"'
	[ -d "$M/rob/Maildir/.Tom &- Jerry" ]
	sp_log 'MAILBOX "user.rob.Old Stuff"' \
	    'MAILBOX "user.rob.Tom &- Jerry"' \
	    'MAILBOX "user.rob.a  b"' \
	    'MAILBOX "user.rob.(Paren) \{brace\} \"q\""'
	sp_replicate
	[ -d "$R/rob/Maildir/.Old Stuff/cur" ]
	[ -d "$R/rob/Maildir/.Tom &- Jerry/cur" ]
	[ -d "$R/rob/Maildir/.a  b/cur" ]
	[ -d "$R/rob/Maildir/.(Paren) {brace} \"q\"/cur" ]
	sp_log 'USER rob'
	sp_replicate
	run_ok dv r mailbox list -u rob
	[[ "$output" == *'(Paren) {brace} "q"'* ]]
	dv_same rob
}

@test "non-ASCII folder names, kept in modified UTF-7 on disk" {
	fill sue 'Entwürfe' '日本語' 'Ünïcödé/Ärger'
	[ -d "$M/sue/Maildir/.Entw&APw-rfe" ]
	sp_log 'MAILBOX user.sue.Entw&APw-rfe' 'USER sue'
	sp_replicate
	[ -d "$R/sue/Maildir/.Entw&APw-rfe/cur" ]
	[ -d "$R/sue/Maildir/.&ZeVnLIqe-/cur" ]
	run_ok dv r mailbox list -u sue
	[[ "$output" == *'日本語'* ]]
	[[ "$output" == *'Ünïcödé/Ärger'* ]]
	dv_same sue
}

@test "a deep hierarchy of folders" {
	fill ted 'L1/L2/L3/L4/L5/L6/L7/L8' 'L1/L2/Side' 'L1'
	sp_log 'MAILBOX user.ted.L1.L2.L3.L4.L5.L6.L7.L8' 'USER ted'
	sp_replicate
	[ -d "$R/ted/Maildir/.L1.L2.L3.L4.L5.L6.L7.L8/cur" ]
	run_ok dv r mailbox status -u ted messages 'L1/L2/L3/L4/L5/L6/L7/L8'
	[ "${output##* }" = "messages=1" ]
	dv_same ted
}

@test "users in domains" {
	fill uma@example.com 'Sent' 'Projekt/Überblick'
	dv_msg uma-inbox | dv_deliver m uma@example.com
	fill uma@example.org 'Sent'
	[ -d "$M/example.com/uma/Maildir/.Sent" ]
	sp_log 'USER uma@example.com' 'MAILBOX example.org!user.uma.Sent' \
	    'MAILBOX example.org!user.uma' \
	    'SUB uma@example.org example.org!user.uma.Sent'
	sp_replicate
	[ -d "$R/example.com/uma/Maildir/.Sent/cur" ]
	[ -d "$R/example.org/uma/Maildir/.Sent/cur" ]
	dv_same uma@example.com
	dv_same uma@example.org
}

@test "a user id with a dot" {
	fill vic.tor 'Inbox Two'
	dv_msg vic-1 | dv_deliver m vic.tor
	# a dot in a user id is '^' in a mailbox name
	sp_log 'MAILBOX "user.vic^tor.Inbox Two"' 'USER vic.tor'
	sp_replicate
	[ -d "$R/vic.tor/Maildir/.Inbox Two/cur" ]
	dv_same vic.tor
}
