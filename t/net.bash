# net.bash: helpers for the t/2*-net-*.bats suites (load after helpers).
#
# Certificates are made with openssl(1) and identities with saslpasswd2(8)
# in the test's own directory; servers listen on 127.0.0.1 only, on a port
# the kernel picks, and every process started here is stopped by net_stop
# (each suite calls it from teardown).

NET_PIDS=()

# net_need: skips the test unless openssl and saslpasswd2 are installed.
net_need() {
	command -v openssl >/dev/null || skip "openssl not installed"
	command -v saslpasswd2 >/dev/null || skip "saslpasswd2 not installed"
}

# net_cert NAME CN SAN [ca options...]: a key and a certificate signed by
# the test CA ($T/pki/ca.pem).
net_cert() {
	local name=$1 cn=$2 san=$3
	shift 3
	(
		cd "$T/pki" || exit 1
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		    -nodes -keyout "$name.key" \
		    -out "$name.csr" -subj "/CN=$cn" \
		    -addext "subjectAltName=$san" 2>/dev/null &&
		openssl ca -config ca.cnf -batch -notext -in "$name.csr" \
		    -out "$name.pem" "$@" 2>/dev/null
	) || return 1
}

# net_pki: $T/pki with a CA, a certificate for localhost and 127.0.0.1,
# one for another host, an expired one, a client one, and a second CA.
net_pki() {
	mkdir -p "$T/pki"
	(
		cd "$T/pki" || exit 1
		cat > ca.cnf <<-EOF
		[ca]
		default_ca = test
		[test]
		database = index.txt
		new_certs_dir = .
		certificate = ca.pem
		private_key = ca.key
		serial = serial
		default_md = sha256
		default_days = 2
		policy = any
		copy_extensions = copy
		unique_subject = no
		[any]
		commonName = supplied
		EOF
		: > index.txt
		echo 01 > serial
		openssl req -x509 -newkey ec \
		    -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key \
		    -out ca.pem -days 2 -subj /CN=syncpipe-test-ca 2>/dev/null &&
		openssl req -x509 -newkey ec \
		    -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		    -keyout other-ca.key -out other-ca.pem -days 2 \
		    -subj /CN=other-ca 2>/dev/null
	) || return 1
	net_cert server localhost "DNS:localhost,IP:127.0.0.1" &&
	net_cert wronghost elsewhere.example "DNS:elsewhere.example" &&
	net_cert expired localhost "DNS:localhost,IP:127.0.0.1" \
	    -startdate 20200101000000Z -enddate 20200102000000Z &&
	net_cert client replicator "DNS:replicator.example"
}

# net_sasldb: $T/sasldb with fred (secret) and mallory (secret2), realm
# syncpipe; $T/creds holds fred's credentials.
net_sasldb() {
	echo secret | saslpasswd2 -c -p -f "$T/sasldb" -u syncpipe fred &&
	echo secret2 | saslpasswd2 -c -p -f "$T/sasldb" -u syncpipe mallory &&
	printf 'fred\nsecret\n' > "$T/creds" && chmod 600 "$T/creds"
}

# net_setup: certificates, sasldb and a master store M, made once per
# suite (in setup_file's directory) and copied into each test's.
net_setup() {
	local cache=${BATS_FILE_TMPDIR:-$T}/net-cache
	net_need
	if [ ! -d "$cache" ]; then
		(
			T=$cache.tmp
			mkdir -p "$T" && net_pki && net_sasldb &&
			syncpipe-gen --seed 7 --users 2 --folders 3 \
			    --messages 12 "$T/M" >/dev/null
		) || return 1
		mv "$cache.tmp" "$cache"
	fi
	cp -a "$cache/pki" "$cache/sasldb" "$cache/creds" "$cache/M" "$T/"
}

# net_server NAME [sync-apply options...]: starts a TLS/SASL daemon for
# the store $T/NAME (log $T/NAME.log) and sets $port.  Implicit TLS unless
# --starttls is the first option.
net_server() {
	local name=$1 tls=--tls i
	shift
	if [ "${1:-}" = --starttls ]; then
		tls=
		shift
	fi
	sync-apply -vv --listen 127.0.0.1:0 $tls \
	    --tls-cert "$T/pki/server.pem" --tls-key "$T/pki/server.key" \
	    --sasl-db "$T/sasldb" --sasl-realm syncpipe --allow fred \
	    --auth-delay 0 "$@" "$T/$name" 2> "$T/$name.log" &
	NET_PIDS+=($!)
	server_pid=$!
	for i in $(seq 100); do
		port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' \
		    "$T/$name.log")
		[ -n "$port" ] && return 0
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "server $name did not start:"
	cat "$T/$name.log"
	return 1
}

# net_wait_log FILE PATTERN: waits (up to 10 s) until FILE has a line
# matching PATTERN.
net_wait_log() {
	local i
	for i in $(seq 100); do
		grep -q -e "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "no \"$2\" in $1:"
	cat "$1"
	return 1
}

# net_stop: stops every server started (SIGTERM, then waits).
net_stop() {
	local p
	for p in "${NET_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${NET_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	NET_PIDS=()
	return 0
}

# net_shim: $T/rsh, a remote shell that runs the command on this host
# (SYNC_RSH points at it), after logging its arguments to $T/rsh.log.
net_shim() {
	cat > "$T/rsh" <<-'EOF'
	#!/bin/sh
	echo "$*" >> "${0%/*}/rsh.log"
	while [ $# -gt 0 ]; do
		case $1 in
		-p|-l) shift 2 ;;
		-*) shift ;;
		*) break ;;
		esac
	done
	shift
	exec sh -c "$*"
	EOF
	chmod +x "$T/rsh"
	export SYNC_RSH=$T/rsh
}

# net_copy ENDPOINT: a full copy of $T/M to the replica at ENDPOINT; the
# applied entries land in $T/applied.
net_copy() {
	sync-diff --all "$T/M" "$1" > "$T/changes" &&
	sync-send "$T/M" "$1" < "$T/changes" > "$T/applied"
}
