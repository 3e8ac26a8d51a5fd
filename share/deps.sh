#!/bin/sh
# deps.sh: make sure the Debian packages syncpipe needs to build and test
# are installed.  As root, installs the missing ones; otherwise prints the
# command to run and fails.
set -eu

PACKAGES="build-essential pkg-config libssl-dev zlib1g-dev libsasl2-dev
libsasl2-modules libsasl2-modules-db sasl2-bin bats mandoc xz-utils openssl
dovecot-core dovecot-imapd dovecot-sieve dovecot-managesieved dovecot-lmtpd"

# `deps.sh bench` (make bench) adds what the benchmark runs against or
# measures with: rsync, GNU time for the peak RSS, Dovecot's doveadm
# backup, xz for the corpus, perl for its helpers, setpriv (util-linux) and
# mkfs.ext4 (e2fsprogs) for its scratch file system.
BENCH_PACKAGES="rsync time dovecot-core xz-utils perl util-linux e2fsprogs"
if [ "${1:-}" = bench ]; then
	PACKAGES="$PACKAGES $BENCH_PACKAGES"
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps.sh: dpkg-query not found; install by hand:" \
	    $PACKAGES >&2
	exit 0
fi

missing=
for p in $PACKAGES; do
	st=$(dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null) || st=
	[ "$st" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages; as root, run:" >&2
	echo "apt-get install -y$missing" >&2
	exit 1
fi
echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
