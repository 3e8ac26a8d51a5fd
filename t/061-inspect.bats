#!/usr/bin/env bats
# synclog-tail as an inspection tool: filters, JSON, statistics, several
# files, and a batch looked at while it is being consumed.

load helpers

CYRUS="$BATS_TEST_DIRNAME/fixtures/cyrus"

teardown() {
	[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null
	return 0
}

@test "inspect: --type keeps the entries of the types named" {
	run_ok synclog-tail -t seen,DoubleMailbox "$CYRUS/all-master.log"
	[ "$output" = "$(cat <<'EOF2'
SEEN bob 8cg3gf1vivqq8u8tie59hz79
SEEN bob 8cg3gf1vivqq8u8tie59hz79
DOUBLEMAILBOX user.alice user.alice.Work.Projects
DOUBLEMAILBOX user.alice user.alice.Archive.2024.Q1
EOF2
)" ]
}

@test "inspect: --type with an unknown type is status 64" {
	run_fails 64 synclog-tail -t FROB log
	[ "${stderr_lines[0]}" = "synclog-tail: unknown entry type: FROB" ]
}

@test "inspect: --user keeps what is about the user or their mailboxes" {
	run_ok synclog-tail -u robert "$CYRUS/all-master.log"
	[ "$output" = "$(cat <<'EOF2'
RENAME user.bob user.robert
MAILBOX user.robert
RENAME user.bob user.robert
MAILBOX user.robert
MAILBOX user.robert
MAILBOX user.robert
USER robert
EOF2
)" ]
}

@test "inspect: --user finds a user with a dot and one with a domain" {
	printf 'MAILBOX user.john^doe\nSUB john.doe user.john^doe\n' > log
	printf 'MAILBOX example.com!user.fred.Sent\nUSER fred\n' >> log
	run_ok synclog-tail -u john.doe -u fred@example.com log
	[ "$output" = "$(printf '%s\n' 'MAILBOX user.john^doe' \
	    'SUB john.doe user.john^doe' 'MAILBOX example.com!user.fred.Sent')" ]
}

@test "inspect: --mailbox takes a glob, filters combine" {
	run_ok synclog-tail -m 'user.alice.Work*' -t SUB "$CYRUS/all-master.log"
	[ "$output" = "$(printf 'SUB alice user.alice.Work\nSUB alice user.alice.Work')" ]
	run_ok synclog-tail -m '*Caf&AOk- Cr&AOg-me' "$CYRUS/all-master.log"
	[ "${#lines[@]}" -eq 7 ]
	[ "${lines[0]}" = 'MAILBOX "user.alice.Caf&AOk- Cr&AOg-me"' ]
}

@test "inspect: --json gives one object per entry with file and line" {
	printf 'USER a\n\nRENAME "x y" user.b\n' > log
	run_ok synclog-tail --json log
	[ "${lines[0]}" = '{"file":"log","line":1,"type":"USER","args":["a"],"users":["a"]}' ]
	[ "${lines[1]}" = '{"file":"log","line":3,"type":"RENAME","args":["x y","user.b"],"users":["b"]}' ]
}

@test "inspect: --json escapes, invalid UTF-8 bytes become \\u00XX" {
	printf 'MAILBOX "user.a.\\"q\\" \\\\ caf\xc3\xa9 \xff\xc3 \x01"\n' > log
	run_ok synclog-tail -j log
	[ "$output" = '{"file":"log","line":1,"type":"MAILBOX","args":["user.a.\"q\" \\ café \u00ff\u00c3 \u0001"],"users":[]}' ]
	command -v jq > /dev/null || skip "jq not installed"
	run_ok jq -r '.args[0]' <<< "$output"
}

@test "inspect: --json of a whole Cyrus log is valid JSON" {
	command -v jq > /dev/null || skip "jq not installed"
	synclog-tail -j "$CYRUS/all-master.log" > out.json
	run_ok jq -s 'length' out.json
	[ "$output" -eq 204 ]
	run_ok jq -r 'select(.line == 42) | .type + " " + .args[1]' out.json
	[ "$output" = "SEEN 8cg3gf1vivqq8u8tie59hz79" ]
}

@test "inspect: --stats counts per type and user, first and last entry" {
	run_ok synclog-tail --stats "$CYRUS/all-master.log"
	[ "$output" = "$(cat <<EOF2
entries 204
first $CYRUS/all-master.log:1 MAILBOX user.alice
last $CYRUS/all-master.log:204 SUB john.doe user.john^doe
type USER 1
type UNUSER 2
type MAILBOX 146
type APPEND 16
type DOUBLEMAILBOX 2
type RENAME 20
type UNMAILBOX 6
type QUOTA 3
type ANNOTATION 1
type SEEN 2
type SUB 5
user alice 142
user bob 11
user carol 16
user john.doe 4
user robert 7
nouser 26
EOF2
)" ]
}

@test "inspect: --stats --json is one object, filters apply" {
	command -v jq > /dev/null || skip "jq not installed"
	run_ok synclog-tail -s -j -u carol "$CYRUS/all-master.log"
	run_ok jq -c '[.entries, .types.RENAME, .users.carol, .first.line,
	    .last.args[0]]' <<< "$output"
	[ "$output" = '[16,4,16,3,"carol"]' ]
}

@test "inspect: --stats of nothing" {
	run_ok synclog-tail -s /dev/null
	[ "$output" = "entries 0" ]
}

@test "inspect: several files and stdin, statistics over all of them" {
	echo "USER a" > one
	echo "USER b" > two
	run_ok sh -c 'echo "USER c" | synclog-tail -s one - two'
	[ "${lines[0]}" = "entries 3" ]
	[ "${lines[1]}" = "first one:1 USER a" ]
	[ "${lines[2]}" = "last two:1 USER b" ]
}

@test "inspect: filters do not go with --consume" {
	run_fails 64 synclog-tail -c -t USER log
	[[ "$stderr" == *"do not go with --consume"* ]]
}

@test "inspect: a LOG-run being consumed is read without disturbing it" {
	printf 'USER a\nUSER b\n' > log
	synclog-tail -q -c -f -i 0.05 --shutdown-file stop \
	    -e 'touch started; cat > out; while [ ! -e go ]; do sleep 0.05; done' \
	    log 3>&- &
	pid=$!
	for i in $(seq 100); do [ -e started ] && break; sleep 0.1; done
	[ -e log-run ]
	run_ok synclog-tail log-run
	[ "$output" = "$(printf 'USER a\nUSER b')" ]
	run_ok synclog-tail -s log-run
	[ "${lines[0]}" = "entries 2" ]
	touch go
	for i in $(seq 100); do [ ! -e log-run ] && break; sleep 0.1; done
	touch stop
	wait "$pid"
	pid=
	[ ! -e log-run ]
	[ "$(cat out)" = "$(printf 'USER a\nUSER b')" ]
}
