#!/usr/bin/env bats
# syncpipe-gen: the store generator every other test builds on.

load helpers

@test "gen: the same seed gives the same store, byte for byte" {
	mkstore a --seed 42 --users 2 --messages 6
	mkstore b --seed 42 --users 2 --messages 6
	run_ok diff -r a b
	tree_digest a > a.digest
	tree_digest b > b.digest
	run_ok cmp a.digest b.digest
	[ -s a.digest ]
}

@test "gen: another seed gives another store" {
	mkstore a --seed 1 --users 1 --messages 4
	mkstore b --seed 2 --users 1 --messages 4
	run_fails 1 diff -rq a b
}

@test "gen: success is silent" {
	run_ok syncpipe-gen --seed 3 --users 1 --messages 2 s
	[ -z "$output" ]
	[ -z "$stderr" ]
}

@test "gen: users user1..N with a Maildir++ tree each" {
	mkstore s --users 3 --folders 4 --messages 4
	for u in user1 user2 user3; do
		for d in "" /.Sent /.Archive /.Archive.2024 /.Work.Projects; do
			for sub in cur new tmp; do
				[ -d "s/$u/Maildir$d/$sub" ]
			done
			if [ -n "$d" ]; then
				[ -f "s/$u/Maildir$d/maildirfolder" ]
			fi
		done
		[ ! -e "s/$u/Maildir/maildirfolder" ]
	done
	[ ! -e s/user4 ]
	run_ok sh -c 'ls -a s/user1/Maildir | grep "^\." | grep -v "^\.\.\?$"'
	[ "${#lines[@]}" -eq 4 ]
}

@test "gen: --messages per mailbox, newest quarter of INBOX in new/" {
	mkstore s --users 1 --folders 2 --messages 8
	[ "$(count_messages s)" -eq 24 ]
	[ "$(ls s/user1/Maildir/new | wc -l)" -eq 2 ]
	[ "$(ls s/user1/Maildir/cur | wc -l)" -eq 6 ]
	[ "$(ls s/user1/Maildir/.Sent/new | wc -l)" -eq 0 ]
}

@test "gen: file names, sizes and mtimes as Dovecot gives them" {
	mkstore s --users 1 --folders 3 --messages 12
	local re='^([0-9]+)\.M[0-9]+P[0-9]+Q[0-9]+\.[a-z0-9.]+'
	re+=',S=([0-9]+),W=([0-9]+)(:2,[DFRSab]*)?$'
	local f name size crs lfs n=0
	while read -r f; do
		name=${f##*/}
		[[ $name =~ $re ]] || { echo "bad name: $f"; return 1; }
		size=$(stat -c %s "$f")
		[ "${BASH_REMATCH[2]}" -eq "$size" ] ||
		    { echo "S= is not the size: $f"; return 1; }
		crs=$(tr -cd '\r' < "$f" | wc -c)
		lfs=$(tr -cd '\n' < "$f" | wc -c)
		[ "${BASH_REMATCH[3]}" -eq $((size + lfs - crs)) ] ||
		    { echo "W= is not the CRLF size: $f"; return 1; }
		[ "$(stat -c %Y "$f")" -eq "${BASH_REMATCH[1]}" ] ||
		    { echo "mtime is not the time in the name: $f"; return 1; }
		case $f in
		*/new/*) [ -z "${BASH_REMATCH[4]}" ] ;;
		*/cur/*) [ -n "${BASH_REMATCH[4]}" ] ;;
		esac
		n=$((n + 1))
	done < <(find s -type f \( -path '*/cur/*' -o -path '*/new/*' \))
	[ "$n" -eq 48 ]
}

@test "gen: varied messages: CRLF, multipart, small and large" {
	mkstore s --users 2 --folders 4 --messages 30
	run_ok sh -c 'grep -rl "$(printf "\r")" s --include="*,W=*" | wc -l'
	[ "$output" -gt 0 ]
	run_ok sh -c 'grep -rl "^Content-Type: multipart/" s | wc -l'
	[ "$output" -gt 0 ]
	run_ok sh -c 'find s -path "*/cur/*" -size -1024c | wc -l'
	[ "$output" -gt 0 ]
	run_ok sh -c 'find s -path "*/cur/*" -size +10k | wc -l'
	[ "$output" -gt 0 ]
	run_ok sh -c 'find s -path "*/cur/*" -size +110k | wc -l'
	[ "$output" -eq 0 ]
	run_ok grep -rqE '^Message-ID: <.+@.+>' s/user1/Maildir/cur
}

@test "gen: keyword letters, and dovecot-keywords where they are used" {
	mkstore s --users 2 --folders 4 --messages 30
	printf '0 $Forwarded\n1 Junk\n' > want
	run_ok sh -c 'find s -name "*:2,*[ab]*" | wc -l'
	[ "$output" -gt 0 ]
	local d n=0
	for d in s/*/Maildir s/*/Maildir/.*/; do
		[ -d "$d/cur" ] || continue
		if ls "$d/cur" | grep -q ':2,.*[ab]'; then
			run_ok cmp want "$d/dovecot-keywords"
			n=$((n + 1))
		else
			[ ! -e "$d/dovecot-keywords" ]
		fi
	done
	[ "$n" -gt 0 ]
}

@test "gen: subscriptions in Dovecot's version 2 format" {
	mkstore s --users 1 --folders 4
	printf 'V\t2\n\nINBOX\nSent\nArchive\nArchive\t2024\nWork\tProjects\n' \
	    > want
	run_ok cmp want s/user1/Maildir/subscriptions
}

@test "gen: Sieve scripts with .dovecot.sieve pointing at main" {
	mkstore s --users 1
	[ -f s/user1/sieve/main.sieve ]
	[ -f s/user1/sieve/vacation.sieve ]
	[ -L s/user1/.dovecot.sieve ]
	[ "$(readlink s/user1/.dovecot.sieve)" = sieve/main.sieve ]
	run_ok grep -q '^require' s/user1/sieve/main.sieve
}

@test "gen: no dovecot-uidlist: UIDs are the reader's to give" {
	mkstore s --users 2
	run_ok find s -name 'dovecot-uidlist*'
	[ -z "$output" ]
}

@test "gen: --domain puts users under ROOT/DOMAIN/NAME" {
	mkstore s --users 2 --domain example.com
	[ -d s/example.com/fred/Maildir/cur ]
	[ -d s/example.com/wilma/Maildir/.Sent/cur ]
	[ -L s/example.com/fred/.dovecot.sieve ]
	run_ok grep -rqh '^Delivered-To: fred@example.com' \
	    s/example.com/fred/Maildir/cur
}

@test "gen: a second run adds users beside the first" {
	mkstore s --users 2
	mkstore s --users 1 --domain example.com --seed 2
	[ -d s/user2/Maildir ]
	[ -d s/example.com/fred/Maildir ]
}

@test "gen: refuses to overwrite an existing user" {
	mkstore s --users 1
	run_fails 73 syncpipe-gen --users 1 s
	[[ $stderr == *"s/user1: already exists"* ]]
}

@test "gen: --deliver writes new messages into new/" {
	mkstore s --users 1 --folders 4 --messages 4
	run_ok syncpipe-gen --deliver 3 --user user1 s
	[ "$(ls s/user1/Maildir/new | wc -l)" -eq 4 ]
	run_ok syncpipe-gen --deliver 2 --user user1 --folder Work.Projects s
	[ "$(ls s/user1/Maildir/.Work.Projects/new | wc -l)" -eq 2 ]
	[ -z "$(ls s/user1/Maildir/.Work.Projects/tmp)" ]
	run_ok syncpipe-gen --deliver 2 --user user1 --folder Work.Projects s
	[ "$(ls s/user1/Maildir/.Work.Projects/new | wc -l)" -eq 4 ]
}

@test "gen: --deliver to a user in a domain" {
	mkstore s --users 1 --domain example.com
	run_ok syncpipe-gen --deliver 1 --user fred@example.com --folder Sent s
	[ "$(ls s/example.com/fred/Maildir/.Sent/new | wc -l)" -eq 1 ]
}

@test "gen: --deliver to a missing mailbox fails with 66" {
	mkstore s --users 1
	run_fails 66 syncpipe-gen --deliver 1 --user nobody s
	[[ $stderr == *"no such mailbox"* ]]
	run_fails 66 syncpipe-gen --deliver 1 --user user1 --folder Nope s
}

@test "gen: unsafe names for --deliver are refused" {
	mkstore s --users 1
	run_fails 64 syncpipe-gen --deliver 1 --user ../user1 s
	run_fails 64 syncpipe-gen --deliver 1 --user user1 --folder ../x s
}

@test "gen: bad arguments exit 64 with the usage on stderr" {
	run_fails 64 syncpipe-gen
	[[ $stderr == *usage:* ]]
	run_fails 64 syncpipe-gen --users many s
	run_fails 64 syncpipe-gen --bogus s
	run_fails 64 syncpipe-gen --deliver 1 s
	run_fails 64 syncpipe-gen --user user1 s
	run_fails 64 syncpipe-gen a b
	[ ! -e s ]
}

@test "gen: --help goes to stdout and exits 0" {
	run_ok syncpipe-gen --help
	[[ $output == *usage:* ]]
	run_ok syncpipe-gen --version
	[[ $output == *syncpipe* ]]
}
