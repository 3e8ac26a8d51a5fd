#!/usr/bin/env bats
# Replication through sync-diff | sync-send | sync-apply between local stores.

load helpers

setup() {
	M=$BATS_TEST_TMPDIR/M
	R=$BATS_TEST_TMPDIR/R
	syncpipe-gen --seed 7 --users 2 --folders 3 --messages 12 "$M"
}

# Every message file, Sieve script and subscriptions file of a store with
# its size, mtime and hash; uidlists reduced to "uid base" and identity.
# Keyword letters are left out of file names: each side numbers keywords
# its own way (sync-diff compares them by name).
digest() {
	(cd "$1" && find . \( -name tmp -o -name .syncpipe \) -prune -o \
	    -type f ! -name 'dovecot*' ! -name '*.svbin' \
	    ! -name maildirfolder -print |
	    LC_ALL=C sort | while read -r f; do
		# subscriptions: the content matters, not when it was written
		case $f in
		*/subscriptions) fmt='%s' ;;
		*) fmt='%s %Y' ;;
		esac
		printf '%s %s %s\n' "$f" "$(stat -c "$fmt" "$f")" \
		    "$(sha256sum < "$f" | cut -c1-16)"
	done | sed 's#/new/\([^ :]*\) #/cur/\1:2, #; s#\(:2,[A-Z]*\)[a-z]* #\1 #' |
	    LC_ALL=C sort
	find . -name dovecot-uidlist | LC_ALL=C sort | while read -r f; do
		echo "$f $(head -1 "$f" | tr ' ' '\n' | grep -E '^[VG]' |
		    tr '\n' ' ')"
		# only the messages that are there: a uidlist may still list
		# a file that is gone until Dovecot (or we) next rewrite it
		d=${f%/dovecot-uidlist}
		tail -n +2 "$f" | sed 's/ .*:/ /' | while read -r uid base; do
			ls "$d/cur/$base"* "$d/new/$base"* >/dev/null 2>&1 &&
			    echo "$uid $base"
		done | LC_ALL=C sort -n
	done
	find . -name .dovecot.sieve -exec readlink {} \;)
}

replicate_all() {
	sync-diff --all "$M" "$R" | sync-send "$M" | sync-apply "$R"
}

@test "a full copy makes the replica identical to the master" {
	run replicate_all
	[ "$status" -eq 0 ]
	run sync-diff --all --exit-code "$M" "$R"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '%%syncpipe changes 1\n%%end 0')" ]
	[ "$(digest "$M")" = "$(digest "$R")" ]
}

@test "the master's UIDs, UIDVALIDITY and GUID are kept on the replica" {
	replicate_all >/dev/null
	for u in "$M"/user1/Maildir/dovecot-uidlist \
	    "$M"/user1/Maildir/.*/dovecot-uidlist; do
		r=$R/${u#"$M"/}
		[ "$(head -1 "$u" | grep -o ' [VG][^ ]*' | sort)" = \
		  "$(head -1 "$r" | grep -o ' [VG][^ ]*' | sort)" ]
		[ "$(tail -n +2 "$u" | sed 's/ .*:/ /')" = \
		  "$(tail -n +2 "$r" | sed 's/ .*:/ /')" ]
	done
}

@test "sync-diff --exit-code exits 1 when the stores differ" {
	run sync-diff --all --exit-code "$M" "$R"
	[ "$status" -eq 1 ]
	[[ "$output" == *"ADD user.user1 1 "* ]]
}

@test "sync-send with a local replica applies and prints applied entries" {
	run sh -c 'sync-diff --all "$0" "$1" | sync-send "$0" "$1"' "$M" "$R"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "%syncpipe applied 1" ]
	[[ "$output" == *"MAILBOX user.user1"* ]]
	[[ "${lines[-1]}" == "%end "* ]]
	[ "$(digest "$M")" = "$(digest "$R")" ]
}

@test "applying the same bundle twice changes nothing the second time" {
	sync-diff --all "$M" "$R" | sync-send "$M" > "$BATS_TEST_TMPDIR/b"
	sync-apply "$R" < "$BATS_TEST_TMPDIR/b" >/dev/null
	before=$(digest "$R")
	run sync-apply "$R" < "$BATS_TEST_TMPDIR/b"
	[ "$status" -eq 0 ]
	[ "$(digest "$R")" = "$before" ]
	[ ! -e "$R/.syncpipe/stage-$$" ]
}

@test "changes named by entries reach the replica" {
	replicate_all >/dev/null
	inbox=$M/user1/Maildir
	f=$(ls "$inbox/cur" | head -1)
	mv "$inbox/cur/$f" "$inbox/cur/${f%%:2,*}:2,P"
	g=$(ls "$inbox/cur" | sed -n 2p)
	rm "$inbox/cur/$g"
	syncpipe-gen --deliver 3 --user user1 "$M"
	mkdir -p "$inbox/.New Folder"/{cur,new,tmp}
	touch "$inbox/.New Folder/maildirfolder"
	printf 'require "fileinto";\nfileinto "Junk";\n' \
	    > "$M/user1/sieve/main.sieve"
	touch "$R/user1/.dovecot.svbin"
	printf '%s\n' 'MAILBOX user.user1' 'MAILBOX "user.user1.New Folder"' \
	    'SIEVE user1' > "$BATS_TEST_TMPDIR/entries"
	run sh -c 'sync-diff "$0" "$1" < "$2" | sync-send "$0" "$1"' \
	    "$M" "$R" "$BATS_TEST_TMPDIR/entries"
	[ "$status" -eq 0 ]
	[[ "$output" == *'MAILBOX "user.user1.New Folder"'* ]]
	[[ "$output" == *'SIEVE user1'* ]]
	[ ! -e "$R/user1/.dovecot.svbin" ]
	run sync-diff --all --exit-code "$M" "$R"
	[ "$status" -eq 0 ]
	diff <(digest "$M") <(digest "$R")
}

@test "a deleted folder is deleted on the replica" {
	replicate_all >/dev/null
	folder=$(cd "$M/user1/Maildir" && ls -d .[A-Z]* | head -1)
	[ -n "$folder" ]
	rm -rf "$M/user1/Maildir/$folder"
	run sh -c 'echo "UNMAILBOX user.user1$0" | sync-diff "$1" "$2" |
	    sync-send "$1" "$2"' "$folder" "$M" "$R"
	[ "$status" -eq 0 ]
	[[ "$output" == *"UNMAILBOX user.user1$folder"* ]]
	[ ! -e "$R/user1/Maildir/$folder" ]
}

@test "subscriptions are replicated" {
	replicate_all >/dev/null
	printf 'Extra\n' >> "$M/user1/Maildir/subscriptions"
	run sh -c 'echo "SUB user1 user.user1.Extra" | sync-diff "$0" "$1" |
	    sync-send "$0" "$1"' "$M" "$R"
	[ "$status" -eq 0 ]
	[[ "$output" == *"SUB user1 user.user1.Extra"* ]]
	cmp "$M/user1/Maildir/subscriptions" "$R/user1/Maildir/subscriptions"
}

@test "a UIDVALIDITY change replaces the mailbox and keeps the old one" {
	replicate_all >/dev/null
	ul=$M/user1/Maildir/dovecot-uidlist
	sed -i '1s/ V[0-9]*/ V12345/' "$ul"
	run sh -c 'echo "MAILBOX user.user1" | sync-diff "$0" "$1" |
	    sync-send "$0" "$1"' "$M" "$R"
	[ "$status" -eq 0 ]
	grep -q ' V12345' "$R/user1/Maildir/dovecot-uidlist"
	[ -n "$(find "$R/.syncpipe/attic" -name dovecot-uidlist)" ]
	run sync-diff --all --exit-code "$M" "$R"
	[ "$status" -eq 0 ]
}

@test "a stale change list is refused with the retry status" {
	replicate_all >/dev/null
	syncpipe-gen --deliver 1 --user user1 "$M"
	echo 'MAILBOX user.user1' | sync-diff "$M" "$R" > "$BATS_TEST_TMPDIR/c"
	# The replica's INBOX is replaced behind the diff's back.
	sed -i '1s/ V[0-9]*/ V999/' "$R/user1/Maildir/dovecot-uidlist"
	run sh -c 'sync-send "$0" "$1" < "$2"' "$M" "$R" "$BATS_TEST_TMPDIR/c"
	[ "$status" -eq 75 ]
	[[ "$output" == *"refused: another mailbox now holds the name"* ]]
	grep -q ' V999' "$R/user1/Maildir/dovecot-uidlist"
}

@test "messages without UIDs on the master get them as Dovecot would" {
	rm -f "$M"/user1/Maildir/dovecot-uidlist
	sync-diff -m user.user1 "$M" /dev/null >/dev/null
	ul=$M/user1/Maildir/dovecot-uidlist
	head -1 "$ul" | grep -Eq '^3 V[0-9]+ N[0-9]+ G[0-9a-f]{32}$'
	n=$(find "$M/user1/Maildir/cur" "$M/user1/Maildir/new" -type f | wc -l)
	[ "$(tail -n +2 "$ul" | wc -l)" -eq "$n" ]
	[ "$(tail -n +2 "$ul" | cut -d' ' -f1 | tr '\n' ' ')" = \
	  "$(seq 1 "$n" | tr '\n' ' ')" ]
}
