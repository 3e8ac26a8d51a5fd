#!/bin/sh
# run-checks.sh [OBJDIR [BUILD-STATUS]]: runs the C unit tests, replays
# the fuzz corpora through the fuzz targets and runs the bats suites.
# Everything is printed as TAP; the last line is "N passed, N failed"
# (skipped tests count as passed and are also counted on the line before).
# A non-zero BUILD-STATUS (make -k failed) counts as one failure.  Exits 1
# if any failed.

objdir=${1:-build}
work=t/tmp/check
rm -rf "$work"
mkdir -p "$work"
tap=$work/all.tap
: > "$tap"
if [ "${2:-0}" -ne 0 ]; then
	echo "not ok - build: make exited with status $2" | tee -a "$tap"
fi

# report NAME STATUS OUTFILE ERRFILE: passes the TAP on, and adds a failure
# when the program failed without saying so in TAP.
report() {
	cat "$3" | tee -a "$tap"
	if [ "$2" -ne 0 ] && ! grep -q '^not ok' "$3"; then
		echo "not ok - $1: exit status $2" | tee -a "$tap"
	fi
	if [ "$2" -ne 0 ] && [ -s "$4" ]; then
		sed 's/^/#   /' "$4" | tail -n 40
	fi
}

for t in "$objdir"/t/test-*; do
	[ -x "$t" ] || continue
	echo "# $t"
	"$t" > "$work/out" 2> "$work/err"
	report "${t##*/}" $? "$work/out" "$work/err"
done

for f in "$objdir"/t/fuzz-*; do
	[ -x "$f" ] || continue
	case $f in *.o|*.d) continue ;; esac
	name=${f##*/fuzz-}
	corpus=t/fuzz/corpus/$name
	if [ ! -d "$corpus" ]; then
		echo "ok - fuzz replay $name # skip no corpus in $corpus" |
		    tee -a "$tap"
		continue
	fi
	"$f" "$corpus" > "$work/fout" 2> "$work/err"
	st=$?
	if [ $st -eq 0 ]; then
		echo "ok - fuzz replay $name: $(cat "$work/fout")"
	else
		echo "not ok - fuzz replay $name: exit status $st"
	fi > "$work/out"
	report "fuzz replay $name" $st "$work/out" "$work/err"
done

if command -v bats >/dev/null 2>&1; then
	for b in t/*.bats; do
		[ -f "$b" ] || continue
		echo "# $b"
		bats --tap "$b" > "$work/out" 2> "$work/err"
		report "$b" $? "$work/out" "$work/err"
	done
else
	echo "not ok - bats not installed" | tee -a "$tap"
fi

passed=$(grep -c '^ok' "$tap")
failed=$(grep -c '^not ok' "$tap")
skipped=$(grep -ci '^ok .*# skip' "$tap")
if [ "$failed" -gt 0 ]; then
	echo "# failed:"
	grep '^not ok' "$tap" | sed 's/^/#   /'
fi
echo "$skipped skipped"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
