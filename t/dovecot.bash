# dovecot.bash: real Dovecot 2.3 servers for the t/1NN-dovecot-*.bats
# suites (`load helpers` first, then `load dovecot`).
#
# A suite makes its servers once, in setup_file, and stops them all in
# teardown_file.  Everything lives below $DV_TOP, a directory that the
# unprivileged account Dovecot runs as can reach (bats keeps its own
# temporary directories private):
#   $DV_TOP/M, $DV_TOP/R     the master and replica stores
#   $DV_TOP/m, $DV_TOP/r     the Dovecot instance over each (made by
#                            share/dovecot/mkinstance.sh)
#   $DV_TOP/M.log, R.log     the master's sync log, the replica's
# Every server listens on 127.0.0.1 only.  As root, Dovecot serves mail
# owned by nobody:nogroup; the syncpipe programs of a test run as root and
# leave root's files behind, so dv_own hands a store back to Dovecot after
# each of them.  DV_KEEP=1 keeps $DV_TOP (and the servers' logs) for a
# look after the run.

DV_LDA=${DV_LDA:-/usr/lib/dovecot/dovecot-lda}

# dv_missing: prints what is missing to run Dovecot, nothing if all is there.
dv_missing() {
	local p
	for p in dovecot doveadm; do
		command -v "$p" >/dev/null 2>&1 || { echo "$p"; return; }
	done
	[ -x "$DV_LDA" ] || { echo "$DV_LDA"; return; }
	[ -e /usr/lib/dovecot/modules/lib90_sieve_plugin.so ] ||
	    { echo "the Sieve plugin (dovecot-sieve)"; return; }
	[ -e /usr/lib/dovecot/imap ] || echo "dovecot-imapd"
}

# dv_setup_file: for setup_file: makes $DV_TOP, the stores M and R and a
# Dovecot over each, and starts both.  Without Dovecot installed, every
# test of the file is skipped (dv_need in setup says so).
dv_setup_file() {
	DV_MISSING=$(dv_missing)
	export DV_MISSING
	[ -z "$DV_MISSING" ] || return 0
	# not below $TMPDIR, which may be private to the caller
	DV_TOP=$(mktemp -d /tmp/syncpipe-dovecot.XXXXXX)
	export DV_TOP M=$DV_TOP/M R=$DV_TOP/R
	chmod 0755 "$DV_TOP"
	mkdir -p "$M" "$R"
	dv_make m "$M"
	dv_make r "$R"
	dv_start m
	dv_start r
}

# dv_teardown_file: stops every server of the file, removes $DV_TOP.
dv_teardown_file() {
	[ -n "${DV_TOP:-}" ] && [ -d "$DV_TOP" ] || return 0
	dv_stop_all
	[ -n "${DV_KEEP:-}" ] || rm -rf "$DV_TOP"
}

# dv_need: for setup: skips the test when Dovecot is not installed.
dv_need() {
	[ -z "${DV_MISSING:-}" ] || skip "Dovecot not installed: $DV_MISSING"
}

# dv_make NAME STORE: the configuration of an instance over STORE.
dv_make() {
	sh "$SP_TOP/share/dovecot/mkinstance.sh" "$DV_TOP/$1" "$2" >/dev/null
}

dv_conf() {
	printf '%s/%s/dovecot.conf' "$DV_TOP" "$1"
}

# dv_start NAME: starts the instance and waits until it answers.
dv_start() {
	local conf i
	conf=$(dv_conf "$1")
	dovecot -c "$conf" || return 1
	for i in $(seq 100); do
		[ -S "$DV_TOP/$1/run/auth-userdb" ] && return 0
		sleep 0.05
	done
	echo "dv_start: $1 did not come up" >&2
	cat "$DV_TOP/$1/log/dovecot.log" >&2
	return 1
}

# dv_stop NAME: stops the instance (its master process and all children)
# and waits for it to go.
dv_stop() {
	local pidfile=$DV_TOP/$1/run/master.pid pid i
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	kill -TERM "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }
	for i in $(seq 200); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	rm -f "$pidfile"
	return 0
}

dv_stop_all() {
	local d
	for d in "$DV_TOP"/*/run/master.pid; do
		[ -f "$d" ] || continue
		d=${d%/run/master.pid}
		dv_stop "${d##*/}"
	done
}

# dv NAME DOVEADM-ARGS...: doveadm on the instance.
dv() {
	local name=$1
	shift
	doveadm -c "$(dv_conf "$name")" "$@"
}

# dv_deliver NAME USER [dovecot-lda options] < MESSAGE: a delivery through
# dovecot-lda of the instance (Sieve runs).
dv_deliver() {
	local name=$1 user=$2
	shift 2
	"$DV_LDA" -c "$(dv_conf "$name")" -d "$user" -f sender@test.invalid \
	    "$@"
}

# dv_msg ID [SUBJECT [BODY]]: a small message with Message-ID <ID@test>.
dv_msg() {
	printf 'From: Sender <sender@test.invalid>\nTo: rcpt@test.invalid\n'
	printf 'Subject: %s\nMessage-ID: <%s@test>\n' "${2:-message $1}" "$1"
	printf 'Date: Thu, 3 Dec 2026 12:00:00 +0000\n\n%s\n' \
	    "${3:-Body of message $1.}"
}

# dv_own STORE...: gives the stores back to the account Dovecot serves
# mail as (only when running as root).
dv_own() {
	[ "$(id -u)" -eq 0 ] || return 0
	chown -R nobody:nogroup "$@"
}

# sp_log ENTRY...: appends entries to the master's sync log, as a server
# hook would after each change.
sp_log() {
	printf '%s\n' "$@" | sync-relog "$DV_TOP/M.log"
}

# SP_PIPE: the command the rolling consumer runs for each batch.
SP_PIPE='sync-diff "$M" "$R" | sync-send "$M" | sync-apply "$R" |
    sync-relog -F "$DV_TOP/R.log"'

# sp_replicate: one batch of the rolling pipeline (what a --follow
# consumer does at each poll), then both stores go back to Dovecot.
sp_replicate() {
	run_ok synclog-tail --consume "$DV_TOP/M.log" --exec "$SP_PIPE"
	dv_own "$M" "$R"
	[ ! -e "$DV_TOP/M.log-run" ]
}

# dv_messages NAME USER: every message as Dovecot shows it, one line each:
# MAILBOX UID FLAGS GUID SIZE, tab-separated, flags sorted, without
# \Recent (which only says which session saw it first).
dv_messages() {
	dv "$1" -f tab fetch -u "$2" "mailbox uid flags guid size.physical" \
	    all | tail -n +2 | LC_ALL=C awk -F '\t' -v OFS='\t' '{
		n = 0
		split($3, f, " ")
		for (i in f)
			if (f[i] != "\\Recent")
				g[++n] = f[i]
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && g[j - 1] > g[j]; j--) {
				t = g[j]; g[j] = g[j - 1]; g[j - 1] = t
			}
		s = ""
		for (i = 1; i <= n; i++)
			s = s (i > 1 ? " " : "") g[i]
		$3 = s
		print
	}' | LC_ALL=C sort -t $'\t' -k1,1 -k2,2n
}

# dv_boxes NAME USER: every mailbox with UIDVALIDITY, next UID, GUID and
# message count.
dv_boxes() {
	dv "$1" mailbox status -u "$2" "uidvalidity uidnext guid messages" \
	    '*' | LC_ALL=C sort
}

# dv_state NAME USER: what an IMAP client of USER sees on the instance:
# messages, mailboxes, subscriptions, Sieve scripts and the active one.
dv_state() {
	echo "# messages"
	dv_messages "$1" "$2"
	echo "# mailboxes"
	dv_boxes "$1" "$2"
	echo "# subscribed"
	dv "$1" mailbox list -s -u "$2" | LC_ALL=C sort
	echo "# sieve"
	dv "$1" sieve list -u "$2" | LC_ALL=C sort
}

# dv_same USER: the master's and the replica's Dovecot show USER the same.
dv_same() {
	local a b
	a=$(dv_state m "$1") || return 1
	b=$(dv_state r "$1") || return 1
	if [ "$a" != "$b" ]; then
		echo "master and replica differ for $1 (< master, > replica):"
		diff <(printf '%s\n' "$a") <(printf '%s\n' "$b")
		return 1
	fi
}
