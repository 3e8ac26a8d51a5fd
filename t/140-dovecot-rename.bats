#!/usr/bin/env bats
# Renames and deletes made through the master's Dovecot.  A rename is a
# rename on the replica, the mailbox matched by its GUID, no bodies sent
# again; a deletion names the GUID and UIDVALIDITY it expects and is
# refused when another mailbox holds the name by then.  A user per test.

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

# folder USER FOLDER N: a folder on the master with N messages, replicated
# and opened once by the replica's Dovecot.
folder() {
	local i
	run_ok dv m mailbox create -u "$1" "$2"
	for i in $(seq "$3"); do
		dv_msg "$1-$2-$i" | dv_deliver m "$1" -m "$2" || return 1
	done
	sp_log "USER $1"
	sp_replicate
	run_ok dv r -f tab fetch -u "$1" "mailbox uid" all
}

# guid_of NAME USER FOLDER: the mailbox GUID Dovecot shows.
guid_of() {
	dv "$1" mailbox status -u "$2" guid "$3" | sed 's/.*guid=//'
}

@test "a renamed folder's change list has a RENAME and no ADD" {
	folder wes Work 5
	run_ok dv m mailbox rename -u wes Work Jobs
	run_ok sh -c 'echo "RENAME user.wes.Work user.wes.Jobs" |
	    sync-diff "$0" "$1"' "$M" "$R"
	[[ "$output" == *$'\nRENAME user.wes.Work user.wes.Jobs '* ]]
	[[ "$output" != *$'\nADD '* ]]
}

@test "a renamed folder keeps its GUID, UIDs and files on the replica" {
	folder xia Work 4
	guid=$(guid_of m xia Work)
	ino=$(stat -c %i "$R"/xia/Maildir/.Work/cur/* | sort)
	run_ok dv m mailbox rename -u xia Work Jobs
	sp_log 'RENAME user.xia.Work user.xia.Jobs'
	sp_replicate
	[ ! -e "$R/xia/Maildir/.Work" ]
	[ "$(guid_of r xia Jobs)" = "$guid" ]
	# the same files, moved with their directory
	[ "$(stat -c %i "$R"/xia/Maildir/.Jobs/cur/* | sort)" = "$ino" ]
	dv_same xia
}

@test "a folder renamed with its children" {
	folder yan Work 2
	run_ok dv m mailbox create -u yan Work/Sub
	dv_msg yan-sub | dv_deliver m yan -m Work/Sub
	sp_log 'MAILBOX user.yan.Work.Sub'
	sp_replicate
	run_ok dv m mailbox rename -u yan Work Old/Work
	sp_log 'RENAME user.yan.Work user.yan.Old.Work' \
	    'RENAME user.yan.Work.Sub user.yan.Old.Work.Sub'
	run_ok sh -c 'synclog-tail "$0" | sync-diff "$1" "$2"' \
	    "$DV_TOP/M.log" "$M" "$R"
	[[ "$output" != *$'\nADD '* ]]
	sp_replicate
	[ -d "$R/yan/Maildir/.Old.Work.Sub/cur" ]
	[ ! -e "$R/yan/Maildir/.Work.Sub" ]
	dv_same yan
}

@test "a deletion names the GUID and UIDVALIDITY of the mailbox" {
	folder zed Gone 2
	guid=$(guid_of m zed Gone)
	run_ok dv m mailbox status -u zed uidvalidity Gone
	uidvalidity=${output##*=}
	run_ok dv m mailbox delete -u zed Gone
	run_ok sh -c 'echo "UNMAILBOX user.zed.Gone" | sync-diff "$0" "$1"' \
	    "$M" "$R"
	[[ "$output" == *"UNMAILBOX user.zed.Gone $guid $uidvalidity"* ]]
	sp_log 'UNMAILBOX user.zed.Gone'
	sp_replicate
	[ ! -e "$R/zed/Maildir/.Gone" ]
	dv_same zed
}

@test "a deletion is refused when another mailbox now holds the name" {
	folder abe Gone 2
	run_ok dv m mailbox delete -u abe Gone
	run_ok sh -c 'echo "UNMAILBOX user.abe.Gone" | sync-diff "$0" "$1" \
	    > "$2"' "$M" "$R" "$T/changes"
	# meanwhile the replica's Dovecot deletes Gone and makes a new one
	run_ok dv r mailbox delete -u abe Gone
	run_ok dv r mailbox create -u abe Gone
	dv_msg abe-new | dv_deliver r abe -m Gone
	dv_own "$R"
	guid=$(guid_of r abe Gone)
	run_fails 75 sh -c 'sync-send "$0" "$1" < "$2"' "$M" "$R" "$T/changes"
	[[ "$stderr" == *"user.abe.Gone"* ]]
	dv_own "$R"
	[ "$(guid_of r abe Gone)" = "$guid" ]
	run_ok dv r mailbox status -u abe messages Gone
	[ "${output##* }" = "messages=1" ]
}
