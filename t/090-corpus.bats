#!/usr/bin/env bats
# The real corpus (11,043 received messages) replicated to an empty replica.
# Skipped when ../shared/corpus is not there.

load helpers

setup_file() {
	CORPUS=$BATS_TEST_DIRNAME/../../shared/corpus/real-maildir.tar.xz
	export CORPUS
}

# Spreads the unpacked messages over INBOX and three folders, keeping
# their names and mtimes.
make_master() {
	local src=$1 m=$2/corpus/Maildir f
	mkdir -p "$m"/{cur,new,tmp}
	for f in Lists Lists.usrp Archive.2003; do
		mkdir -p "$m/.$f"/{cur,new,tmp}
		touch "$m/.$f/maildirfolder"
	done
	(cd "$src" && find cur new -type f | LC_ALL=C sort) |
	awk -v m="$m" -v s="$src" '{
		n = NR % 4
		d = n == 0 ? m : n == 1 ? m "/.Lists" : n == 2 ? \
		    m "/.Lists.usrp" : m "/.Archive.2003"
		print s "/" $0 "\t" d "/" $0
	}' | while IFS=$'\t' read -r from to; do mv "$from" "$to"; done
}

@test "the real corpus replicates byte for byte with UIDs, flags and mtimes" {
	need_shared corpus/real-maildir.tar.xz
	src=$BATS_TEST_TMPDIR/unpacked
	M=$BATS_TEST_TMPDIR/M
	R=$BATS_TEST_TMPDIR/R
	mkdir -p "$src"
	tar -C "$src" -xJf "$CORPUS"
	make_master "$src" "$M"
	total=$(find "$M" -type f ! -name maildirfolder | wc -l)
	[ "$total" -eq 11043 ]

	run sh -c 'sync-diff --all "$0" "$1" | sync-send "$0" | sync-apply "$1"' \
	    "$M" "$R"
	[ "$status" -eq 0 ]

	# Same names (base, flags), bytes and mtimes for every message.
	list() {
		(cd "$1" && find . -path ./.syncpipe -prune -o -type f \
		    \( -path '*/cur/*' -o -path '*/new/*' \) -printf '%P %s %T@\n' |
		    sed 's/\.[0-9]*$//; s#/new/\([^ :]*\) #/cur/\1:2, #' |
		    LC_ALL=C sort)
	}
	[ "$(list "$M" | wc -l)" -eq 11043 ]
	diff <(list "$M") <(list "$R")
	(cd "$M" && find . -type f \( -path '*/cur/*' -o -path '*/new/*' \) \
	    -print0 |
	    xargs -0 sha256sum) | LC_ALL=C sort -k2 > "$BATS_TEST_TMPDIR/m.sum"
	(cd "$R" && find . -path ./.syncpipe -prune -o -type f \
	    \( -path '*/cur/*' -o -path '*/new/*' \) -print0 |
	    xargs -0 sha256sum) |
	    LC_ALL=C sort -k2 > "$BATS_TEST_TMPDIR/r.sum"
	by_base() {
		sed -E 's#/(cur|new)/([^:]*)(:.*)?$#/\2#' "$1" | LC_ALL=C sort
	}
	[ "$(wc -l < "$BATS_TEST_TMPDIR/m.sum")" -eq 11043 ]
	diff <(by_base "$BATS_TEST_TMPDIR/m.sum") \
	    <(by_base "$BATS_TEST_TMPDIR/r.sum")

	# Same UIDs for the same base names, same UIDVALIDITY and GUID.
	for ul in $(cd "$M" && find . -name dovecot-uidlist); do
		[ "$(head -1 "$M/$ul" | grep -o ' [VG][^ ]*')" = \
		  "$(head -1 "$R/$ul" | grep -o ' [VG][^ ]*')" ]
		diff <(tail -n +2 "$M/$ul" | sed 's/ .*:/ /' | sort) \
		    <(tail -n +2 "$R/$ul" | sed 's/ .*:/ /' | sort)
	done

	run sync-diff --all --exit-code "$M" "$R"
	[ "$status" -eq 0 ]
}
