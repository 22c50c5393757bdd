#!/bin/sh
# sandpool's cgroup v2 tests, run as root inside the VM that tools/vm-cgroup2
# boots (busybox sh; cgroup2 is mounted on /sys/fs/cgroup and nothing else).
# Prints TAP-style "ok - NAME" / "not ok - NAME" lines, "# ..." notes, and
# ends with "N passed, M failed"; exits 1 when any test failed.
#
# The root part runs sandpool in the root cgroup. The rootless part (hello,
# the cpu limit, the tree without mount points and the languages again)
# runs it as uid 1000 over a delegated subtree laid out as
# systemd lays out user@1000.service: /sys/fs/cgroup/user1000 is chowned to
# the user with the controllers enabled for its children, the user's shell
# sits in user1000/shell, and each sandpool run is started in a scope of its
# own, user1000/run-N, the way `systemd-run --user --scope` starts a command.
#
# Languages (when tools/vm-cgroup2 put a store disk in): each one's sum
# sample through `sandpool run --language` over its real image, under the
# language's default limits (times scaled for an emulated CPU): status ok,
# stdout exactly sum.out, and memory.max of the program's cgroup, read
# while it runs (it waits there for its input), the language's memory
# limit.
#
# Internal: `cgroup2-tests.sh --rootless-part` is that part, started by
# this script through su; it adds its counts to the file $SP_VM_COUNTS.

SANDPOOL=${SANDPOOL:-sandpool}
ROOTFS=${SANDPOOL_VM_ROOTFS:-/rootfs}
CG=/sys/fs/cgroup
USER_CG=$CG/user1000
RUN_TIMEOUT=120          # seconds before a hung sandpool is killed
MEM_PEAK_MAX_KB=33792    # 32 MiB limit plus 1 MiB of slack
SELF=$(readlink -f "$0")

passed=0
failed=0
suffix=""
TMPD=$(mktemp -d /tmp/cgroup2-tests.XXXXXX) || exit 1
trap 'rm -rf "$TMPD"' EXIT

# ---- reporting ----------------------------------------------------------

note() { echo "# $*"; }
note_file() { sed 's/^/#   /' "$@"; }

# A test: t_begin NAME; t_need WHAT COMMAND...; t_end.
t_begin() {
	T_NAME="$1$suffix"
	T_WHY=""
	RUN_JSON=""
	RUN_RC=""
	: >"$TMPD/err"
	: >"$TMPD/notes"
}
t_need() {
	t_what=$1
	shift
	"$@" || T_WHY="$T_WHY; $t_what"
}
t_note() { echo "$*" >>"$TMPD/notes"; }
t_end() {
	if [ -z "$T_WHY" ]; then
		passed=$((passed + 1))
		echo "ok - $T_NAME"
	else
		failed=$((failed + 1))
		echo "not ok - $T_NAME"
		note "failed: ${T_WHY#; }"
		[ -n "$RUN_RC" ] && note "sandpool exit status: $RUN_RC"
		[ -n "$RUN_JSON" ] && note "sandpool output: $RUN_JSON"
		if [ -s "$TMPD/err" ]; then
			note "sandpool stderr:"
			head -n 20 "$TMPD/err" | note_file
		fi
	fi
	[ -s "$TMPD/notes" ] && note_file "$TMPD/notes"
	return 0
}
t_skip() {
	echo "ok - $1$suffix # SKIP $2"
	passed=$((passed + 1))
}

# ---- small predicates ---------------------------------------------------

is_int() { case $1 in '' | -* | *[!0-9]*) return 1 ;; esac; }
eq() { [ "$1" = "$2" ]; }
ne() { [ "$1" != "$2" ]; }
ge() { is_int "$1" && [ "$1" -ge "$2" ]; }
gt() { is_int "$1" && [ "$1" -gt "$2" ]; }
le() { is_int "$1" && [ "$1" -le "$2" ]; }
lt() { is_int "$1" && [ "$1" -lt "$2" ]; }
contains() { case $1 in *"$2"*) return 0 ;; esac; return 1; }
empty_file() { ! [ -s "$1" ]; }

# Milliseconds since boot.
now_ms() {
	read -r up _ </proc/uptime
	echo $((${up%.*} * 1000 + 1${up#*.} * 10 - 1000))
}

# ---- JSON (flat objects; no jq in the VM) -------------------------------

# json_str KEY JSON: the value of a string member, still JSON-escaped.
# Quotes inside JSON strings are escaped, so `"KEY":` after { or , is
# always a member name, never string content.
json_str() {
	printf '%s\n' "$2" |
		sed -nE 's/.*[{,][[:space:]]*"'"$1"'"[[:space:]]*:[[:space:]]*"(([^"\\]|\\.)*)".*/\1/p' |
		head -n 1
}
# json_val KEY JSON: a number, true, false or null member.
json_val() {
	printf '%s\n' "$2" |
		sed -nE 's/.*[{,][[:space:]]*"'"$1"'"[[:space:]]*:[[:space:]]*(-?[0-9]+(\.[0-9]+)?|true|false|null).*/\1/p' |
		head -n 1
}

# sp_run ARGS...: `sandpool run ARGS`, bounded by RUN_TIMEOUT. Sets
# RUN_RC, RUN_JSON (stdout, lines joined), RUN_MS (elapsed) and the fields
# ST (status), EXIT, SIG, CPU, WALL, MEM, OUT, ERR, CGMODE, TRUNC.
sp_run() {
	t0=$(now_ms)
	timeout -s KILL "$RUN_TIMEOUT" "$SANDPOOL" run "$@" </dev/null >"$TMPD/out" 2>"$TMPD/err"
	RUN_RC=$?
	RUN_MS=$(($(now_ms) - t0))
	RUN_JSON=$(tr '\n' ' ' <"$TMPD/out" | sed 's/ *$//')
	ST=$(json_str status "$RUN_JSON")
	EXIT=$(json_val exit_code "$RUN_JSON")
	SIG=$(json_val signal "$RUN_JSON")
	CPU=$(json_val cpu_ms "$RUN_JSON")
	WALL=$(json_val wall_ms "$RUN_JSON")
	MEM=$(json_val memory_kb "$RUN_JSON")
	OUT=$(json_str stdout "$RUN_JSON")
	ERR=$(json_str stderr "$RUN_JSON")
	CGMODE=$(json_str cgroup "$RUN_JSON")
	TRUNC=$(json_val truncated "$RUN_JSON")
	[ "$RUN_RC" -ne 137 ] || t_note "sandpool was killed after ${RUN_TIMEOUT}s"
}

# ---- processes and cgroups ---------------------------------------------

# Live (not zombie) processes whose name or command line contains $1, as
# "pid state comm: cmdline" lines; zombies go to $TMPD/zombies.
procs_matching() {
	: >"$TMPD/zombies"
	for d in /proc/[0-9]*; do
		p=${d#/proc/}
		[ "$p" = "$$" ] && continue
		stat=$(cat "$d/stat" 2>/dev/null) || continue
		comm=${stat#*(}
		comm=${comm%)*}
		state=${stat##*) }
		state=${state%% *}
		# busybox timeout's watchdog (ours) carries the job's command line.
		[ "$comm" = timeout ] && continue
		cmd=$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null)
		case "$comm $cmd" in
		*"$1"*)
			if [ "$state" = Z ]; then
				echo "$p $state $comm: $cmd" >>"$TMPD/zombies"
			else
				echo "$p $state $comm: $cmd"
			fi
			;;
		esac
	done
}

# Processes in another pid namespace than ours: after a `sandpool run` has
# returned, none of its sandboxes may be left.
procs_in_other_pidns() {
	mine=$(readlink /proc/self/ns/pid)
	for d in /proc/[0-9]*; do
		ns=$(readlink "$d/ns/pid" 2>/dev/null) || continue
		[ "$ns" = "$mine" ] && continue
		stat=$(cat "$d/stat" 2>/dev/null) || continue
		echo "${d#/proc/} $ns $(tr '\0' ' ' <"$d/cmdline" 2>/dev/null) [$stat]"
	done
}

# No process matching $1 and none in another pid namespace.
no_leftover_procs() {
	procs_matching "$1" >"$TMPD/left"
	procs_in_other_pidns >>"$TMPD/left"
	if [ -s "$TMPD/zombies" ]; then
		t_note "zombies (not counted):"
		cat "$TMPD/zombies" >>"$TMPD/notes"
	fi
	if [ -s "$TMPD/left" ]; then
		t_note "processes left after the run:"
		cat "$TMPD/left" >>"$TMPD/notes"
		return 1
	fi
	return 0
}

cg_dirs() { find "$1" -type d 2>/dev/null | sort; }

# cg_leftovers BEFORE-LIST DIR: checks the cgroup dirs that appeared under
# DIR since BEFORE-LIST was taken. sandpool may keep what it made for
# itself (its parent of job cgroups, a leaf it moved itself into), but no
# job cgroup. A job cgroup is recognised by its limits (memory.max or
# pids.max other than "max"), by processes in it, or by numbers: more than
# MAX_OWN_CGROUPS new dirs after several runs means one per run was left.
# Lists what remains.
MAX_OWN_CGROUPS=2
cg_leftovers() {
	cg_dirs "$2" >"$TMPD/cg.now"
	grep -vxF -f "$1" "$TMPD/cg.now" >"$TMPD/cg.new"
	if ! [ -s "$TMPD/cg.new" ]; then
		t_note "no new cgroup left under $2"
		return 0
	fi
	bad=0
	t_note "cgroups left under $2 (memory.max, pids.max, processes):"
	while read -r d; do
		mm=$(cat "$d/memory.max" 2>/dev/null || echo -)
		pm=$(cat "$d/pids.max" 2>/dev/null || echo -)
		np=$(wc -l <"$d/cgroup.procs" 2>/dev/null || echo 0)
		t_note "  $d $mm $pm $np"
		if ! { [ "$mm" = max ] || [ "$mm" = - ]; } || ! { [ "$pm" = max ] || [ "$pm" = - ]; }; then
			t_note "  ^ has limits set: a job cgroup"
			bad=1
		fi
		if [ "$np" -ne 0 ]; then
			t_note "  ^ still has processes"
			bad=1
		fi
	done <"$TMPD/cg.new"
	n=$(wc -l <"$TMPD/cg.new")
	if [ "$n" -gt "$MAX_OWN_CGROUPS" ]; then
		t_note "  $n new cgroups, more than the $MAX_OWN_CGROUPS sandpool may keep for itself"
		bad=1
	fi
	[ "$bad" -eq 0 ]
}

# ---- the tests ----------------------------------------------------------

test_check() {
	t_begin "sandpool check --json says cgroup v2"
	timeout -s KILL 60 "$SANDPOOL" check --json </dev/null >"$TMPD/out" 2>"$TMPD/err"
	RUN_RC=$?
	RUN_JSON=$(tr '\n' ' ' <"$TMPD/out")
	t_need "exit status 0" eq "$RUN_RC" 0
	t_need '"cgroup": "v2"' eq "$(json_str cgroup "$RUN_JSON")" v2
	timeout -s KILL 60 "$SANDPOOL" check </dev/null >"$TMPD/check.txt" 2>&1
	t_note "sandpool check:"
	sed 's/^/  /' "$TMPD/check.txt" >>"$TMPD/notes"
	t_end
}

test_hello() {
	t_begin "hello: echo hi runs, cgroup v2"
	sp_run --rootfs "$ROOTFS" -- /bin/echo hi
	t_need "sandpool exit 0" eq "$RUN_RC" 0
	t_need "status ok" eq "$ST" ok
	t_need "exit_code 0" eq "$EXIT" 0
	t_need 'stdout "hi\n"' eq "$OUT" 'hi\n'
	t_need '"cgroup": "v2"' eq "$CGMODE" v2
	t_end
}

test_memory() {
	t_begin "memory limit: 32M kills a memory bomb, memory.peak counted"
	if [ -x "$ROOTFS/opt/tests/memory-bomb" ]; then
		t_note "using /opt/tests/memory-bomb"
		set -- /opt/tests/memory-bomb
	else
		t_note "no memory-bomb program: using a doubling busybox sh string"
		set -- /bin/sh -c 'x=a; while true; do x=$x$x; done'
	fi
	sp_run --rootfs "$ROOTFS" --memory 32M --cpu 30s --wall 60s -- "$@"
	t_need "sandpool exit 0" eq "$RUN_RC" 0
	t_need "status memory_limit" eq "$ST" memory_limit
	t_need "memory_kb > 16000" gt "$MEM" 16000
	t_need "memory_kb <= $MEM_PEAK_MAX_KB" le "$MEM" "$MEM_PEAK_MAX_KB"
	t_need '"cgroup": "v2"' eq "$CGMODE" v2
	t_note "status $ST, memory_kb $MEM, signal $SIG, exit_code $EXIT"
	t_end
}

fork_failed() {
	ne "$ST" ok && return 0
	case $ERR in
	*[Ff]ork* | *"Resource temporarily unavailable"* | *"Try again"*) return 0 ;;
	esac
	return 1
}

test_pids() {
	t_begin "pids limit: 8 stops a fork loop, no sleep left"
	sp_run --rootfs "$ROOTFS" --pids 8 --cpu 10s --wall 20s -- \
		/bin/sh -c 'for i in $(seq 1 20); do sleep 5 & done; wait'
	t_need "sandpool exit 0" eq "$RUN_RC" 0
	t_need "forks failed (stderr says so, or the status is not ok)" fork_failed
	t_need "run ends well before 100 s (took ${RUN_MS} ms)" lt "$RUN_MS" 40000
	t_need "no sleep process left" no_leftover_procs sleep
	t_note "status $ST, wall_ms $WALL, stderr: $(printf '%s' "$ERR" | cut -c1-200)"
	t_end
}

# This kernel has the 32-bit entry (IA32 emulation), so the filter itself
# must stop an int 0x80 system call: killed, status syscall_blocked.
test_int80() {
	t_begin "seccomp: a 32-bit int 0x80 system call is killed"
	if ! [ -x "$ROOTFS/opt/tests/int80" ]; then
		t_skip "seccomp: a 32-bit int 0x80 system call is killed" "no int80 program in /opt/tests"
		return
	fi
	sp_run --rootfs "$ROOTFS" -- /opt/tests/int80
	t_need "sandpool exit 0" eq "$RUN_RC" 0
	t_need "status syscall_blocked" eq "$ST" syscall_blocked
	t_need "signal 31 (SIGSYS)" eq "$SIG" 31
	t_end
}

test_cpu() {
	t_begin "cpu limit: 1s of cpu.stat time stops a busy loop"
	sp_run --rootfs "$ROOTFS" --cpu 1s --wall 10s -- /bin/sh -c 'while :; do :; done'
	t_need "sandpool exit 0" eq "$RUN_RC" 0
	t_need "status time_limit" eq "$ST" time_limit
	t_need "cpu_ms >= 900" ge "$CPU" 900
	t_need "wall_ms < 5000" lt "$WALL" 5000
	t_need '"cgroup": "v2"' eq "$CGMODE" v2
	t_note "status $ST, cpu_ms $CPU, wall_ms $WALL, run took ${RUN_MS} ms"
	t_end
}

test_kill() {
	t_begin "cgroup.kill: a setsid daemon is gone after the run, no job cgroup left"
	# The daemon ignores TERM and HUP and leaves the session: only a kill of
	# the whole cgroup (or pid namespace) ends it.
	daemon='setsid /bin/sh -c "trap \"\" TERM HUP; while :; do sleep 1; done" & echo started'
	sp_run --rootfs "$ROOTFS" --wall 10s --cpu 5s -- /bin/sh -c "$daemon"
	t_need "sandpool exit 0" eq "$RUN_RC" 0
	t_need 'stdout "started\n"' eq "$OUT" 'started\n'
	t_need "no daemon left" no_leftover_procs "do sleep 1"
	t_need "no job cgroup left" cg_leftovers "$TMPD/cg.before" "$CG"
	t_note "status $ST, wall_ms $WALL, run took ${RUN_MS} ms"
	t_end
}

# ---- rootless part ------------------------------------------------------

# Runs in the user's shell cgroup as uid 1000: each sandpool run gets a
# fresh scope cgroup of its own (made by the user, who owns user1000).
scope_n=0
sp_run_in_scope() {
	scope_n=$((scope_n + 1))
	scope=$USER_CG/run-$scope_n
	mkdir "$scope" || {
		t_note "cannot create $scope"
		RUN_RC=-1
		return
	}
	SP_SCOPE=$scope
	# A child shell moves itself into the scope, then becomes sandpool.
	SANDPOOL_REAL=$SANDPOOL
	SANDPOOL="$TMPD/in-scope"
	cat >"$SANDPOOL" <<EOF
#!/bin/sh
echo \$\$ >"$scope/cgroup.procs" || exit 126
exec "$SANDPOOL_REAL" "\$@"
EOF
	chmod 0755 "$SANDPOOL"
	sp_run "$@"
	SANDPOOL=$SANDPOOL_REAL
}

# After a run in a scope: nothing but sandpool's own parent under it, then
# the scope goes away.
scope_clean() {
	cg_leftovers "$TMPD/scope.before" "$SP_SCOPE" || return 1
	find "$SP_SCOPE" -depth -type d -exec rmdir {} \; 2>/dev/null
	[ ! -d "$SP_SCOPE" ] || {
		t_note "cannot remove $SP_SCOPE"
		return 1
	}
}

rootless_part() {
	suffix=" (rootless uid $(id -u))"
	note "rootless: $(id), in cgroup $(cat /proc/self/cgroup)"
	note "rootless: unprivileged_userns_clone=$(cat /proc/sys/kernel/unprivileged_userns_clone 2>/dev/null || echo -)"

	t_begin "hello: echo hi runs, cgroup v2"
	sp_run_in_scope --rootfs "$ROOTFS" -- /bin/echo hi
	echo "$SP_SCOPE" >"$TMPD/scope.before"
	t_need "sandpool exit 0" eq "$RUN_RC" 0
	t_need "status ok" eq "$ST" ok
	t_need 'stdout "hi\n"' eq "$OUT" 'hi\n'
	t_need '"cgroup": "v2"' eq "$CGMODE" v2
	t_need "no job cgroup left in the scope" scope_clean
	t_end

	t_begin "cpu limit: 1s of cpu.stat time stops a busy loop"
	sp_run_in_scope --rootfs "$ROOTFS" --cpu 1s --wall 10s -- /bin/sh -c 'while :; do :; done'
	echo "$SP_SCOPE" >"$TMPD/scope.before"
	t_need "sandpool exit 0" eq "$RUN_RC" 0
	t_need "status time_limit" eq "$ST" time_limit
	t_need "cpu_ms >= 900" ge "$CPU" 900
	t_need "wall_ms < 5000" lt "$WALL" 5000
	t_need '"cgroup": "v2"' eq "$CGMODE" v2
	t_need "no job cgroup left in the scope" scope_clean
	t_note "status $ST, cpu_ms $CPU, wall_ms $WALL"
	t_end

	RUNNER=sp_run_in_scope test_plain_tree
	RUNNER=sp_run_in_scope test_languages

	echo "$passed $failed" >>"$SP_VM_COUNTS"
}

# As root: delegate user1000 to uid 1000 and run the rootless part there.
run_rootless() {
	if ! grep -q '^sp:x:1000:' /etc/passwd; then
		note "rootless part skipped: no user sp (uid 1000) in /etc/passwd"
		return
	fi
	mkdir -p "$USER_CG" || return
	# What systemd's user@.service delegates (Delegate=pids memory cpu).
	for c in cpu memory pids; do
		echo "+$c" >"$USER_CG/cgroup.subtree_control" 2>/dev/null ||
			note "cannot enable $c in $USER_CG"
	done
	mkdir -p "$USER_CG/shell"
	chown -R 1000:1000 "$USER_CG"
	note "delegated $USER_CG to uid 1000; controllers for its children: $(cat "$USER_CG/cgroup.subtree_control")"
	SP_VM_COUNTS=$TMPD/rootless.counts
	: >"$SP_VM_COUNTS"
	chown 1000:1000 "$SP_VM_COUNTS" "$TMPD"
	export SP_VM_COUNTS SANDPOOL SANDPOOL_VM_ROOTFS="$ROOTFS"
	# Into the shell cgroup as root, then become the user.
	sh -c 'echo $$ >"$1/shell/cgroup.procs" && exec su -s /bin/sh sp -c "/bin/sh $2 --rootless-part"' \
		sh "$USER_CG" "$SELF"
	rc=$?
	read -r rp rf <"$SP_VM_COUNTS" 2>/dev/null
	if ! is_int "$rp" || ! is_int "$rf"; then
		failed=$((failed + 1))
		echo "not ok - rootless part ran (exit status $rc, no counts)"
		return
	fi
	passed=$((passed + rp))
	failed=$((failed + rf))
}

# A copy of the rootfs without any mount point of its own, /box a symlink to
# a host directory: with overlayfs (loaded when tools/vm-cgroup2 got
# SANDPOOL_VM_MODULES=overlay) the job runs over it and nothing reaches the
# host directory; without it the job is refused with the mount point named.
make_plain_tree() {
	PLAIN=$TMPD/plain
	mkdir -p "$PLAIN" "$TMPD/host-dir" || return 1
	for entry in "$ROOTFS"/*; do
		case ${entry##*/} in box | tmp | proc | dev | sys) ;; *) cp -a "$entry" "$PLAIN/" ;; esac
	done
	ln -s "$TMPD/host-dir" "$PLAIN/box"
	chmod 755 "$TMPD" "$TMPD/host-dir"
}

overlay_expected() { grep -q '^overlay' /sandpool-vm/modules 2>/dev/null; }

test_plain_tree() {
	t_begin "a tree without mount points: $(overlay_expected && echo runs over the overlay || echo refused by name)"
	make_plain_tree || t_need "the plain tree was made" false
	${RUNNER:-sp_run} --rootfs "$PLAIN" -- /bin/sh -c 'echo x > /box/f && cat /box/f && test -d /proc/self && echo ok'
	if overlay_expected; then
		t_need "status ok" eq "$ST" ok
		t_need 'stdout "x\nok\n"' eq "$OUT" 'x\nok\n'
	else
		t_need "sandpool exit 1" eq "$RUN_RC" 1
		t_need "refused naming /box" contains "$RUN_JSON" "refused the overlay"
	fi
	t_need "nothing written through /box" empty_dir "$TMPD/host-dir"
	t_end
}

empty_dir() { [ -z "$(ls -A "$1")" ]; }

# ---- languages ----------------------------------------------------------

# tools/vm-cgroup2 lists the languages to run in /sandpool-vm/languages
# ("LANG SAMPLE MEMORY_KB": the sum sample's file name in
# /sandpool-vm/samples/LANG, beside sum.in and sum.out, and the memory the
# language's run gets by default), their images on the store disk mounted
# on /var/lib/sandpool, and extra `sandpool run` flags (a hand check that
# too little memory fails) in /sandpool-vm/language-flags.
LANG_LIST=/sandpool-vm/languages
SAMPLES=/sandpool-vm/samples
STORE=/var/lib/sandpool
LANG_FLAGS=$(cat /sandpool-vm/language-flags 2>/dev/null)
TIME_SCALE=$(cat /sandpool-vm/time-scale 2>/dev/null || echo 1)
# Seconds a language's program may take to start before its input is
# written all the same (feed_once_running; the check then fails).
LANG_INPUT_WAIT=120

# Seconds before a hung `sandpool run --language` is killed: past the
# (scaled) wall limits of any language's compile and run.
LANG_RUN_TIMEOUT=$((TIME_SCALE * 60))
[ "$LANG_RUN_TIMEOUT" -ge 300 ] || LANG_RUN_TIMEOUT=300

# watch_cgroups FILE: until killed, appends "MEMORY_MAX COMM" for each
# process of a cgroup whose memory.max is not "max" (sandpool's cgroups
# are at most four levels down, rootless ones under user1000/run-N).
watch_cgroups() {
	while :; do
		for f in $CG/*/memory.max $CG/*/*/memory.max $CG/*/*/*/memory.max $CG/*/*/*/*/memory.max; do
			read -r max 2>/dev/null <"$f" || continue
			[ "$max" = max ] && continue
			while read -r pid; do
				read -r comm 2>/dev/null <"/proc/$pid/comm" && echo "$max $comm"
			done 2>/dev/null <"${f%/memory.max}/cgroup.procs"
		done
		sleep 0.2
	done >>"$1"
}

# The memory limit was in force: a process of the program (not sandpool's
# own cell init or a step before its execve) sat in a cgroup whose
# memory.max was $1 bytes.
mem_limit_seen() {
	awk -v m="$1" '$1 == m && $2 !~ /^sandpool/ { found = 1 } END { exit !found }' "$TMPD/cg.seen"
}

# FILE's text as a JSON string's content, as sandpool prints stdout.
json_text() {
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/	/\\t/g' "$1" | awk '{ printf "%s\\n", $0 }'
}

# A step's figures from the answer: step_figures compile|run.
step_figures() {
	part=${RUN_JSON#*\"$1\":}
	[ "$part" = "$RUN_JSON" ] && return
	part=${part%%\"run\":*}
	echo "$1: status $(json_str status "$part"), cpu_ms $(json_val cpu_ms "$part")," \
		"wall_ms $(json_val wall_ms "$part"), memory_kb $(json_val memory_kb "$part")"
}

# Writes INPUT once a process of the program sits in a cgroup whose
# memory.max is MEMORY_MAX bytes (its stdin is a FIFO: until then it waits
# there, however quick its runtime), or after LANG_INPUT_WAIT seconds.
feed_once_running() { # INPUT MEMORY_MAX
	ticks=0
	while ! mem_limit_seen "$2" && [ "$ticks" -lt $((LANG_INPUT_WAIT * 5)) ]; do
		sleep 0.2
		ticks=$((ticks + 1))
	done
	cat "$1"
}

# One language's sum sample (two numbers on stdin, their sum on stdout)
# with `sandpool run --language` under the language's default limits:
# status ok, stdout exactly sum.out, cgroup v2, and the language's memory
# limit on the program's cgroup during the run (read from memory.max, not
# taken from sandpool's word). The numbers come once the program waits for
# them in its cgroup, so that the watcher sees it there.
test_language() {
	lang=$1 sample=$2 mem_kb=$3
	times=""
	[ "$TIME_SCALE" = 1 ] || times=", times x$TIME_SCALE"
	t_begin "language $lang: a program under its default limits (memory.max $((mem_kb / 1024)) MiB$times)"
	: >"$TMPD/cg.seen"
	watch_cgroups "$TMPD/cg.seen" &
	watcher=$!
	rm -f "$TMPD/stdin"
	mkfifo "$TMPD/stdin"
	feed_once_running "$SAMPLES/$lang/${sample%.*}.in" $((mem_kb * 1024)) >"$TMPD/stdin" &
	feeder=$!
	saved_timeout=$RUN_TIMEOUT
	RUN_TIMEOUT=$LANG_RUN_TIMEOUT
	# shellcheck disable=SC2086 # LANG_FLAGS is a list of flags
	${RUNNER:-sp_run} --language "$lang" --source "$SAMPLES/$lang/$sample" --stdin "$TMPD/stdin" \
		--state-dir "$STORE" $LANG_FLAGS
	RUN_TIMEOUT=$saved_timeout
	kill "$watcher" "$feeder" 2>/dev/null
	wait "$watcher" "$feeder" 2>/dev/null
	t_need "sandpool exit 0" eq "$RUN_RC" 0
	t_need "status ok" eq "$(json_str status "${RUN_JSON%%\"compile\":*}")" ok
	t_need "stdout as ${sample%.*}.out" eq "$OUT" "$(json_text "$SAMPLES/$lang/${sample%.*}.out")"
	t_need '"cgroup": "v2"' eq "$CGMODE" v2
	t_need "memory.max $((mem_kb * 1024)) on the program's cgroup during the run" \
		mem_limit_seen $((mem_kb * 1024))
	t_need "memory_kb <= $mem_kb" le "$MEM" "$mem_kb"
	[ -n "$LANG_FLAGS" ] && t_note "extra flags: $LANG_FLAGS"
	t_note "$(step_figures compile)"
	t_note "$(step_figures run)"
	t_note "run took ${RUN_MS} ms; memory.max and processes seen: $(sort -u "$TMPD/cg.seen" | tr '\n' ',' | sed 's/,$//; s/,/, /g')"
	t_end
}

test_languages() {
	[ -s "$LANG_LIST" ] || return 0
	while read -r lang sample mem_kb; do
		test_language "$lang" "$sample" "$mem_kb"
	done <"$LANG_LIST"
}

# ---- main ---------------------------------------------------------------

if [ "${1:-}" = "--rootless-part" ]; then
	rootless_part
	exit 0
fi

if ! command -v "$SANDPOOL" >/dev/null 2>&1; then
	echo "not ok - sandpool binary present ($SANDPOOL not found)"
	echo "0 passed, 1 failed"
	exit 1
fi
note "$(uname -sr), cgroup controllers: $(cat $CG/cgroup.controllers)"
note "memory-bomb program: $([ -x "$ROOTFS/opt/tests/memory-bomb" ] && echo present || echo absent)"
cg_dirs "$CG" >"$TMPD/cg.before"

test_check
test_hello
test_memory
test_pids
test_cpu
test_int80
test_kill
test_plain_tree
test_languages
run_rootless

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
