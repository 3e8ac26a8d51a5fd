# helpers.bash: shared by every t/NNN-topic.bats (`load helpers`).
#
# Every test runs in its own empty directory ($T), with the freshly built
# programs first in PATH.  Commands run through run_ok / run_fails, which
# log the command, its exit status, stdout and stderr (bats shows that log
# when the test fails) and check the status; stdout is in $output, stderr
# in $stderr, so that each can be asserted on its own.

bats_require_minimum_version 1.5.0

SP_TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
SP_BIN=$SP_TOP/bin
SP_SHARED=${SYNCPIPE_SHARED:-$SP_TOP/../shared}
PATH=$SP_BIN:$PATH
export PATH LC_ALL=C

# Per-test working directory; a test file with its own setup() calls this.
sp_setup() {
	T=${BATS_TEST_TMPDIR:-$(mktemp -d)}
	cd "$T" || return 1
}

setup() {
	sp_setup
}

# run_status WANT CMD...: runs CMD, logs it, fails unless the exit status is
# WANT ("nonzero" accepts any failure).
run_status() {
	local want=$1
	shift
	run --separate-stderr "$@"
	printf '$ %s\n' "$*"
	printf 'exit status %s\n' "$status"
	[ -z "$output" ] || printf -- '--- stdout\n%s\n' "$output"
	[ -z "$stderr" ] || printf -- '--- stderr\n%s\n' "$stderr"
	if [ "$want" = nonzero ]; then
		if [ "$status" -eq 0 ]; then
			echo "expected a failure, got exit status 0"
			return 1
		fi
	elif [ "$status" -ne "$want" ]; then
		echo "expected exit status $want, got $status"
		return 1
	fi
}

# run_ok CMD...: CMD must succeed.
run_ok() {
	run_status 0 "$@"
}

# run_fails [STATUS] CMD...: CMD must fail, with STATUS when given.
run_fails() {
	case $1 in
	''|*[!0-9]*)
		run_status nonzero "$@"
		;;
	*)
		local want=$1
		shift
		run_status "$want" "$@"
		;;
	esac
}

# run_sh_ok 'PIPELINE': a shell pipeline that must succeed.
run_sh_ok() {
	run_ok sh -c "$1"
}

# need_shared PATH: skips the test unless ../shared/PATH exists; the full
# path is left in $shared.
need_shared() {
	shared=$SP_SHARED/$1
	[ -e "$shared" ] || skip "../shared/$1 not present"
}

# mkstore DIR [syncpipe-gen options]: a generated store, --seed 1 unless
# told otherwise.
mkstore() {
	local dir=$1
	shift
	run_ok syncpipe-gen --seed 1 "$@" "$dir"
}

# tree_digest DIR: one sorted line per file of a store, for comparing two
# stores with diff:
#   MAILBOX/BASE:2,FLAGS SIZE MTIME SHA256   a message (cur/ and new/ alike)
#   PATH SIZE MTIME SHA256                   a Sieve script
#   PATH SIZE - SHA256                       any other file
#   PATH -> TARGET                           a symlink
# Left out: what is never replicated or is rewritten locally by each side
# (dovecot.index*, dovecot-uidlist*, *.svbin, maildirsize, tmp/,
# .syncpipe/).
tree_digest() {
	local dir=${1:?tree_digest: no directory}
	(
		cd "$dir" || exit 1
		find . \( -name 'dovecot.index*' -o -name 'dovecot-uidlist*' \
		    -o -name '*.svbin' -o -name maildirsize -o -name tmp \
		    -o -name .syncpipe \) -prune \
		    -o \( -type f -o -type l \) -printf '%y\t%s\t%T@\t%p\t%l\n' |
		while IFS=$'\t' read -r type size mtime path link; do
			_digest_line "${path#./}" "$type" "$size" \
			    "${mtime%.*}" "$link"
		done | sort
	)
}

_digest_line() {
	local path=$1 type=$2 size=$3 mtime=$4 link=$5 dir sub name sha
	if [ "$type" = l ]; then
		printf '%s -> %s\n' "$path" "$link"
		return
	fi
	sha=$(sha256sum < "$path")
	sha=${sha%% *}
	dir=${path%/*}
	sub=${dir##*/}
	name=${path##*/}
	case $sub in
	cur|new)
		case $name in
		*:2,*)	;;
		*)	name=$name:2, ;;
		esac
		printf '%s/%s %s %s %s\n' "${dir%/*}" "$name" "$size" \
		    "$mtime" "$sha"
		;;
	*)
		case $path in
		*/sieve/*.sieve) ;;
		*) mtime=- ;;
		esac
		printf '%s %s %s %s\n' "$path" "$size" "$mtime" "$sha"
		;;
	esac
}

# count_messages DIR: how many message files a store holds.
count_messages() {
	find "$1" -path '*/tmp' -prune -o -type f \( -path '*/cur/*' \
	    -o -path '*/new/*' \) -print | wc -l
}
