#!/bin/sh
# mkinstance.sh DIR [STORE]: writes DIR/dovecot.conf, the configuration of
# a throwaway Dovecot 2.3 that keeps everything of its own below DIR and
# serves the syncpipe store STORE (DIR/store by default), and prints the
# path of that file.
#
# The server listens on 127.0.0.1 only, on the ports IMAP_PORT and
# SIEVE_PORT, or on free ones found here.  Run as root, its helpers run as
# nobody:nogroup and the mail must belong to nobody:nogroup (Dovecot does
# not serve mail owned by root); otherwise everything runs as the caller.
# Start it with "dovecot -c DIR/dovecot.conf", stop it with
# "doveadm -c DIR/dovecot.conf stop".
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: mkinstance.sh DIR [STORE]" >&2
	exit 64
fi
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
dir=$(cd "$1" && pwd)
store=${2:-$dir/store}
mkdir -p "$store" "$dir/run" "$dir/state" "$dir/log"
store=$(cd "$store" && pwd)

if [ "$(id -u)" -eq 0 ]; then
	svc_user=nobody
	svc_group=nogroup
	mail_uid=$(id -u nobody)
	mail_gid=$(getent group nogroup | cut -d: -f3)
	chown "$mail_uid:$mail_gid" "$store"
else
	svc_user=$(id -un)
	svc_group=$(id -gn)
	mail_uid=$(id -u)
	mail_gid=$(id -g)
fi

# listening PORT: true if something listens on the TCP port (IPv4 or 6).
listening() {
	hex=$(printf '%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
	    awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p {
		found = 1 } END { exit !found }'
}

# free_port: a port in 20000-59999 that nothing listens on, starting from
# a number that differs from one run to the next.
taken=
free_port() {
	p=$(( ($$ * 7919 + $(date +%N | sed 's/^0*//;s/^$/0/')) % 40000 ))
	n=0
	while [ $n -lt 40000 ]; do
		port=$((20000 + (p + n) % 40000))
		case " $taken " in
		*" $port "*) ;;
		*)	if ! listening "$port"; then
				taken="$taken $port"
				echo "$port"
				return 0
			fi ;;
		esac
		n=$((n + 1))
	done
	echo "mkinstance.sh: no free port" >&2
	return 1
}

imap_port=${IMAP_PORT:-$(free_port)}
taken="$taken $imap_port"
sieve_port=${SIEVE_PORT:-$(free_port)}
name=$(basename "$dir" | tr -c 'A-Za-z0-9\n' '-')

sed -e "s|@DIR@|$dir|g" -e "s|@STORE@|$store|g" -e "s|@NAME@|$name|g" \
    -e "s|@SVC_USER@|$svc_user|g" -e "s|@SVC_GROUP@|$svc_group|g" \
    -e "s|@MAIL_UID@|$mail_uid|g" -e "s|@MAIL_GID@|$mail_gid|g" \
    -e "s|@IMAP_PORT@|$imap_port|g" -e "s|@SIEVE_PORT@|$sieve_port|g" \
    "$here/dovecot.conf.in" > "$dir/dovecot.conf"
echo "$dir/dovecot.conf"
