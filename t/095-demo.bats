#!/usr/bin/env bats
# The README's first command: the demo must end with identical replicas.

load helpers

@test "the demo replicates M -> R1 -> R2 and ends identical" {
	DEMO_DIR=$T/demo run_ok bash "$SP_TOP/share/demo.sh"
	[[ "$output" == *"master = R1 = R2: identical"* ]]
	[ -z "$(pgrep -f "synclog-tail.*$T/demo" || true)" ]
}
