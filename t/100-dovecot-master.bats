#!/usr/bin/env bats
# A master written by Dovecot itself, replicated by the rolling pipeline;
# then a second Dovecot over the replica must show exactly the master's
# state (the failover check).  Each test has a user of its own in the two
# shared stores.

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

teardown() {
	# a consumer left running by a failed test
	if [ -n "${follower:-}" ]; then
		kill -TERM "$follower" 2>/dev/null
		wait "$follower" 2>/dev/null
	fi
	return 0
}

# The filing script of the tests: work mail to Work/Projects, flagged and
# with a keyword; lists to "Lists/Dovecot Users", seen.
filing_sieve() {
	cat <<'EOF'
require ["fileinto", "imap4flags"];
if header :contains "subject" "work" {
	fileinto :flags ["\\Flagged", "$Work"] "Work/Projects";
	stop;
}
if header :contains "subject" "list" {
	addflag "\\Seen";
	fileinto "Lists/Dovecot Users";
	stop;
}
EOF
}

# deliver_some USER N PREFIX: N deliveries, alternating between INBOX,
# work mail and list mail.
deliver_some() {
	local user=$1 n=$2 p=$3 i subj
	for i in $(seq "$n"); do
		case $((i % 3)) in
		0) subj="hello $i" ;;
		1) subj="work item $i" ;;
		2) subj="list digest $i" ;;
		esac
		dv_msg "$p-$i" "$subj" | dv_deliver m "$user" || return 1
	done
}

@test "deliveries filed by Sieve into folders reach the replica" {
	run_ok dv m sieve put -u alice -a filing < <(filing_sieve)
	deliver_some alice 6 a
	# fileinto created and subscribed the folders
	sp_log 'SIEVE alice' 'APPEND user.alice' \
	    'APPEND user.alice.Work.Projects' \
	    'APPEND "user.alice.Lists.Dovecot Users"' \
	    'SUB alice user.alice.Work.Projects' \
	    'SUB alice "user.alice.Lists.Dovecot Users"'
	sp_replicate
	run_ok dv_messages r alice
	[[ "$output" == *$'Work/Projects\t1\t$Work \\Flagged\t'* ]]
	[[ "$output" == *$'Lists/Dovecot Users\t1\t\\Seen\t'* ]]
	dv_same alice
}

@test "changes made through Dovecot reach the replica by the rolling pipeline" {
	run_ok dv m sieve put -u bob -a filing < <(filing_sieve)
	deliver_some bob 9 b
	synclog-tail --consume --follow --interval 0.1 \
	    --shutdown-file "$T/stop" "$DV_TOP/M.log" --exec "$SP_PIPE" \
	    2> "$T/follower.err" &
	follower=$!
	sp_log 'USER bob'
	drained

	run_ok dv m flags add -u bob '\Answered $Label1' mailbox INBOX uid 1
	run_ok dv m flags remove -u bob '\Flagged' mailbox Work/Projects uid 2
	run_ok dv m expunge -u bob mailbox Work/Projects uid 1
	sp_log 'MAILBOX user.bob' 'MAILBOX user.bob.Work.Projects'
	drained

	run_ok dv m mailbox create -u bob Archive/2026 Scratch Gone
	run_ok dv m mailbox subscribe -u bob Archive/2026
	run_ok dv m mailbox unsubscribe -u bob "Lists/Dovecot Users"
	run_ok dv m copy -u bob Archive/2026 mailbox INBOX all
	sp_log 'MAILBOX user.bob.Archive.2026' 'MAILBOX user.bob.Scratch' \
	    'MAILBOX user.bob.Gone' 'SUB bob user.bob.Archive.2026' \
	    'UNSUB bob "user.bob.Lists.Dovecot Users"'
	drained

	run_ok dv m mailbox rename -u bob Scratch Kept
	run_ok dv m mailbox delete -u bob Gone
	sp_log 'RENAME user.bob.Scratch user.bob.Kept' 'UNMAILBOX user.bob.Gone'
	printf 'require "fileinto";\nfileinto "Everything";\n' > "$T/all.sieve"
	run_ok dv m sieve put -u bob all < "$T/all.sieve"
	run_ok dv m sieve activate -u bob all
	sp_log 'SIEVE bob'
	drained

	touch "$T/stop"
	wait "$follower"
	follower=
	dv_own "$M" "$R"
	run_ok cat "$T/follower.err"
	[[ "$output" != *failed* ]]
	run_ok dv r mailbox list -u bob
	[[ "$output" == *Kept* ]]
	[[ "$output" != *Gone* ]]
	[[ "$output" != *Scratch* ]]
	dv_same bob
}

# drained: waits until the follower took every entry logged and settled
# its batch (no log, no log-run left).
drained() {
	local i
	for i in $(seq 300); do
		[ -e "$DV_TOP/M.log" ] || [ -e "$DV_TOP/M.log-run" ] ||
		    return 0
		kill -0 "$follower" 2>/dev/null || break
		sleep 0.1
	done
	echo "the log was not drained"
	cat "$T/follower.err"
	return 1
}

@test "the replica's Dovecot shows the same UIDs, GUIDs, flags and sizes" {
	run_ok dv m sieve put -u carol -a filing < <(filing_sieve)
	deliver_some carol 5 c
	run_ok dv m flags add -u carol '\Deleted $Later' mailbox INBOX all
	sp_log 'USER carol'
	sp_replicate
	run_ok dv_messages m carol
	master=$output
	[ -n "$master" ]
	run_ok dv_messages r carol
	[ "$output" = "$master" ]
	run_ok dv_boxes m carol
	master=$output
	run_ok dv_boxes r carol
	[ "$output" = "$master" ]
}

@test "subscriptions and the active Sieve script are the same" {
	run_ok dv m sieve put -u dan -a filing < <(filing_sieve)
	run_ok dv m sieve put -u dan spare < <(echo keep';')
	run_ok dv m mailbox create -u dan -s Subscribed
	run_ok dv m mailbox create -u dan Unsubscribed
	sp_log 'USER dan'
	sp_replicate
	run_ok dv r mailbox list -s -u dan
	[ "$output" = Subscribed ]
	run_ok dv r sieve list -u dan
	[ "$(printf '%s\n' "${lines[@]}" | sed 's/ *$//' | LC_ALL=C sort)" = \
	    "$(printf 'filing ACTIVE\nspare\n')" ]
	run_ok dv m sieve get -u dan filing
	master=$output
	[[ "$master" == *'"Lists/Dovecot Users"'* ]]
	run_ok dv r sieve get -u dan filing
	[ "$output" = "$master" ]
	dv_same dan
}

@test "a delivery on the replica runs the replicated Sieve rules" {
	printf 'require "fileinto";\nfileinto "Old";\n' > "$T/old.sieve"
	printf 'require "fileinto";\nfileinto "New";\n' > "$T/new.sieve"
	run_ok dv m sieve put -u erin -a main < "$T/old.sieve"
	sp_log 'SIEVE erin'
	sp_replicate
	# the replica's Dovecot compiles and keeps the old rules
	dv_msg e-1 | dv_deliver r erin
	run_ok dv r mailbox status -u erin messages Old
	[ "${output##* }" = "messages=1" ]

	run_ok dv m sieve put -u erin main < "$T/new.sieve"
	sp_log 'SIEVE erin'
	sp_replicate
	dv_msg e-2 | dv_deliver r erin
	run_ok dv r mailbox status -u erin messages New
	[ "${output##* }" = "messages=1" ]
	run_ok dv r mailbox status -u erin messages Old
	[ "${output##* }" = "messages=1" ]
}

@test "new Sieve rules win even when the script is older than the bytecode" {
	printf 'require "fileinto";\nfileinto "Old";\n' > "$T/old.sieve"
	printf 'require "fileinto";\nfileinto "New";\n' > "$T/new.sieve"
	run_ok dv m sieve put -u fay -a main < "$T/old.sieve"
	sp_log 'SIEVE fay'
	sp_replicate
	dv_msg f-1 | dv_deliver r fay
	[ -n "$(find "$R/fay" -name '*.svbin')" ]

	run_ok dv m sieve put -u fay main < "$T/new.sieve"
	touch -d '2020-01-01 00:00:00' "$M/fay/sieve/main.sieve"
	sp_log 'SIEVE fay'
	sp_replicate
	[ "$(stat -c %Y "$R/fay/sieve/main.sieve")" = \
	    "$(date -d '2020-01-01 00:00:00' +%s)" ]
	dv_msg f-2 | dv_deliver r fay
	run_ok dv r mailbox status -u fay messages New
	[ "${output##* }" = "messages=1" ]
}

@test "the replica serves the master's UIDs over IMAP" {
	deliver_some gil 4 g
	run_ok dv m flags add -u gil '\Seen' mailbox INBOX uid 1
	sp_log 'USER gil'
	sp_replicate
	run_ok dv m mailbox status -u gil uidvalidity INBOX
	uidvalidity=${output##*=}
	port=$(sed -n '/inet_listener imap /,/}/s/^ *port = //p' \
	    "$(dv_conf r)")
	run_ok imap_session 127.0.0.1 "$port" \
	    'a1 LOGIN gil test' 'a2 SELECT INBOX' 'a3 UID FETCH 1:* (FLAGS)' \
	    'a4 LOGOUT'
	[[ "$output" == *"OK [UIDVALIDITY $uidvalidity]"* ]]
	[[ "$output" == *"FETCH (UID 1 FLAGS (\\Seen))"* ]]
	[[ "$output" == *"a3 OK"* ]]
}

# imap_session HOST PORT COMMAND...: one IMAP session, the commands sent
# one by one, each after the previous one's tagged answer.
imap_session() {
	local host=$1 port=$2 cmd tag line
	shift 2
	exec 3<>"/dev/tcp/$host/$port" || return 1
	IFS= read -r -t 5 line <&3 && printf '%s\n' "${line%$'\r'}"
	for cmd in "$@"; do
		printf '%s\r\n' "$cmd" >&3
		tag=${cmd%% *}
		while IFS= read -r -t 5 line <&3; do
			line=${line%$'\r'}
			printf '%s\n' "$line"
			[[ "$line" == "$tag "* ]] && break
		done
	done
	exec 3<&-
}
