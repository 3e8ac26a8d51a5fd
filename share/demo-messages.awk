# demo-messages.awk: one line per message for share/demo.sh to compare
# stores.  Input: "DIR<TAB>FILE<TAB>SIZE<TAB>MTIME" of each file in cur/ or
# new/.  Output: "MAILBOX BASE FLAGS KEYWORDS SIZE MTIME", with keyword
# letters turned into names through the mailbox's dovecot-keywords, since
# two stores may number the same keywords differently.

function load_keywords(mbox,    file, line, n, letters) {
	letters = "abcdefghijklmnopqrstuvwxyz"
	loaded[mbox] = 1
	file = mbox "/dovecot-keywords"
	while ((getline line < file) > 0) {
		n = index(line, " ")
		if (n > 1)
			kw[mbox, substr(letters, line + 1, 1)] = substr(line, n + 1)
	}
	close(file)
}

{
	mbox = $1
	sub(/\/(cur|new)$/, "", mbox)
	if (!(mbox in loaded))
		load_keywords(mbox)
	base = $2
	info = ""
	if ((i = index($2, ":2,")) > 0) {
		base = substr($2, 1, i - 1)
		info = substr($2, i + 3)
	}
	flags = ""
	names = ""
	for (j = 1; j <= length(info); j++) {
		c = substr(info, j, 1)
		if (c ~ /[A-Z]/)
			flags = flags c
		else
			names = names " " ((mbox, c) in kw ? kw[mbox, c] : "?" c)
	}
	n = split(names, w, " ")
	sorted = ""
	for (a = 1; a <= n; a++)	# a handful of names: a plain sort
		for (b = a + 1; b <= n; b++)
			if (w[b] < w[a]) { t = w[a]; w[a] = w[b]; w[b] = t }
	for (a = 1; a <= n; a++)
		sorted = sorted (a > 1 ? "," : "") w[a]
	mtime = $4
	sub(/\..*$/, "", mtime)
	printf "%s %s %s %s %s %s\n", mbox, base, (flags == "" ? "-" : flags),
	    (sorted == "" ? "-" : sorted), $3, mtime
}
