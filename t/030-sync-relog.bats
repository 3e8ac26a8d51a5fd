#!/usr/bin/env bats
# sync-relog: validated entries appended to sync logs, plain or framed input.

load helpers

CYRUS="$BATS_TEST_DIRNAME/fixtures/cyrus"

@test "relog: entries appended, canonical, to every LOG" {
	echo "USER old" > a
	run_ok sh -c \
	    'printf "mailbox user.x\nSUB  u \"a b\"\n" | sync-relog a b'
	[ -z "$stderr" ]
	[ "$(cat a)" = "$(printf 'USER old\nMAILBOX user.x\nSUB u "a b"')" ]
	[ "$(cat b)" = "$(printf 'MAILBOX user.x\nSUB u "a b"')" ]
}

@test "relog: a Cyrus log is appended unchanged" {
	run_ok sync-relog log \
	    < "$CYRUS/05-imap-create-nonascii-special.master.log"
	cmp log "$CYRUS/05-imap-create-nonascii-special.master.log"
}

@test "relog: a new LOG is created with mode 0600" {
	echo "USER a" | sync-relog log
	[ "$(stat -c %a log)" = 600 ]
}

@test "relog: framed input with its tail appended, status 0" {
	printf '%%syncpipe applied 1\nUSER a\nUSER b\n%%end 2\n' > in
	run_ok sync-relog log < in
	[ -z "$stderr" ]
	[ "$(cat log)" = "$(printf 'USER a\nUSER b')" ]
}

@test "relog: framed input without its tail appended, status 65" {
	printf '%%syncpipe applied 1\nUSER a\n' > in
	run_fails 65 sync-relog log < in
	[ "$stderr" = "sync-relog: stdin: applied entries end without their %end tail" ]
	[ "$(cat log)" = "USER a" ]
}

@test "relog: a wrong %end count is status 65" {
	printf '%%syncpipe applied 1\nUSER a\n%%end 5\n' > in
	run_fails 65 sync-relog log < in
	[ "$stderr" = "sync-relog: stdin:3: %end says 5 entries, 1 were read" ]
}

@test "relog: a newer major version is status 76 naming both" {
	printf '%%syncpipe applied 2.0\nUSER a\n%%end 1\n' > in
	run_fails 76 sync-relog log < in
	[ "$stderr" = "sync-relog: stdin:1: applied entries version 2.0 is newer than this reader's version 1" ]
	[ ! -e log ]
}

@test "relog: a malformed line is reported, the others appended, 65" {
	printf 'USER a\nUSER\nUSER b\n' > in
	run_fails 65 sync-relog log < in
	[ "$stderr" = "sync-relog: stdin:2: missing argument" ]
	[ "$(cat log)" = "$(printf 'USER a\nUSER b')" ]
}

@test "relog: appends go to a new LOG once the consumer renamed it" {
	echo "USER a" | sync-relog log
	mv log log-run
	echo "USER b" | sync-relog log
	[ "$(cat log-run)" = "USER a" ]
	[ "$(cat log)" = "USER b" ]
}

@test "relog: big input is appended whole" {
	seq -f 'MAILBOX user.u%g' 100000 > in
	run_ok sync-relog log < in
	cmp log in
}

@test "relog: a LOG that cannot be opened is reported, the others written" {
	run_fails 73 sh -c 'echo "USER a" | sync-relog nodir/log ok'
	[[ "$stderr" == "sync-relog: nodir/log: open: "* ]]
	[ "$(cat ok)" = "USER a" ]
}

@test "relog: no LOG is status 64" {
	run_fails 64 sync-relog
	[[ "$stderr" == *"usage:"* ]]
}

@test "relog: --help goes to stdout" {
	run_ok sync-relog --help
	[[ "$output" == "usage: sync-relog"* ]]
}
