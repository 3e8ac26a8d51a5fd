#!/usr/bin/env bats
# Keywords by name: the master's and the replica's Dovecot may give the
# same keyword different letters (their dovecot-keywords files differ);
# keywords are compared and written by name.  A user per test.

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

# letter DIR NAME: the letter a dovecot-keywords file gives keyword NAME.
letter() {
	awk -v k="$2" '$2 == k { printf "%c", 97 + $1 }' "$1/dovecot-keywords"
}

@test "keywords set through Dovecot arrive by name" {
	dv_msg n-1 | dv_deliver m ned
	dv_msg n-2 | dv_deliver m ned
	run_ok dv m flags add -u ned '$Important Project-X' mailbox INBOX uid 1
	run_ok dv m flags add -u ned 'NonJunk' mailbox INBOX uid 2
	sp_log 'USER ned'
	sp_replicate
	run_ok dv_messages r ned
	[[ "${lines[0]}" == $'INBOX\t1\t$Important Project-X\t'* ]]
	[[ "${lines[1]}" == $'INBOX\t2\tNonJunk\t'* ]]
	dv_same ned
}

@test "a replica that numbers keywords differently shows the same names" {
	dv_msg o-1 | dv_deliver m olga
	dv_msg o-2 | dv_deliver m olga
	sp_log 'USER olga'
	sp_replicate
	# the replica's Dovecot learns Zeta and Eta first, in this order
	run_ok dv r flags add -u olga 'Zeta Eta' mailbox INBOX uid 2
	run_ok dv r flags remove -u olga 'Zeta Eta' mailbox INBOX uid 2
	# the master learns Alpha, Beta, Eta and Zeta, in that order
	run_ok dv m flags add -u olga 'Alpha' mailbox INBOX uid 1
	run_ok dv m flags add -u olga 'Beta' mailbox INBOX uid 1
	run_ok dv m flags add -u olga 'Eta' mailbox INBOX uid 1
	run_ok dv m flags add -u olga 'Zeta' mailbox INBOX uid 2
	sp_log 'MAILBOX user.olga'
	sp_replicate
	m=$M/olga/Maildir
	r=$R/olga/Maildir
	[ "$(letter "$m" Zeta)" != "$(letter "$r" Zeta)" ]
	[ "$(letter "$m" Eta)" != "$(letter "$r" Eta)" ]
	run_ok dv_messages r olga
	[[ "${lines[0]}" == $'INBOX\t1\tAlpha Beta Eta\t'* ]]
	[[ "${lines[1]}" == $'INBOX\t2\tZeta\t'* ]]
	dv_same olga
	run_ok sync-diff -u olga --exit-code "$M" "$R"
}

@test "a keyword removed on the master is removed on the replica by name" {
	dv_msg p-1 | dv_deliver m pam
	run_ok dv m flags add -u pam 'One Two Three' mailbox INBOX uid 1
	sp_log 'USER pam'
	sp_replicate
	run_ok dv m flags remove -u pam 'Two' mailbox INBOX uid 1
	sp_log 'MAILBOX user.pam'
	sp_replicate
	run_ok dv_messages r pam
	[[ "${lines[0]}" == $'INBOX\t1\tOne Three\t'* ]]
	dv_same pam
}

@test "keywords filed by Sieve on delivery arrive by name" {
	cat > "$T/kw.sieve" <<'EOF'
require ["imap4flags"];
addflag ["$Label3", "from-sieve"];
EOF
	run_ok dv m sieve put -u quin -a kw < "$T/kw.sieve"
	dv_msg q-1 | dv_deliver m quin
	sp_log 'USER quin'
	sp_replicate
	run_ok dv_messages r quin
	[[ "${lines[0]}" == $'INBOX\t1\t$Label3 from-sieve\t'* ]]
	dv_same quin
}
