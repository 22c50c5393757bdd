"""Integration tests of `sandpool run`: a real sandbox over a real rootfs.

Environment (set by tools/run-tests):
  SANDPOOL_BIN            the sandpool binary
  SANDPOOL_ROOTFS         a Debian rootfs with python3 (tools/build-test-rootfs)
  SANDPOOL_STATIC_ROOTFS  a rootfs of the static hostile programs (make-static-rootfs)
  SANDPOOL_PLAIN_ROOTFS   busybox in a tree without /box, /tmp, /proc, /dev or /sys,
                          root's and read-only (made by tools/run-tests as root)
  SANDPOOL_ID_MAP         auto or single: passed as --id-map
"""

import ctypes
import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import unittest

BIN = os.environ.get("SANDPOOL_BIN", "./sandpool")
ROOTFS = os.environ.get("SANDPOOL_ROOTFS", "")
STATIC = os.environ.get("SANDPOOL_STATIC_ROOTFS", "")
ID_MAP = os.environ.get("SANDPOOL_ID_MAP", "auto")
PLAIN = os.environ.get("SANDPOOL_PLAIN_ROOTFS", "")
BUSYBOX = "/bin/busybox"


def sandpool(*args, timeout=60):
    """Run sandpool; return (exit status, stdout, stderr)."""
    try:
        proc = subprocess.run([BIN, *args], capture_output=True, stdin=subprocess.DEVNULL,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"sandpool {' '.join(args)} hung for {timeout} s")
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def sandpool_peak_kb(*args, timeout=60):
    """Run sandpool under time(1): (stdout, peak resident set in KiB of
    sandpool and the processes it waited for)."""
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", BIN, *args], capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=timeout)
    return proc.stdout.decode(), int(proc.stderr.decode().splitlines()[-1])


class KernelSigaction(ctypes.Structure):
    _fields_ = [("handler", ctypes.c_void_p), ("flags", ctypes.c_ulong),
                ("restorer", ctypes.c_void_p), ("mask", ctypes.c_uint64)]


def ignore_signals(*signals):
    """A preexec_fn that sets SIG_IGN for SIGNALS by rt_sigaction(2) itself
    (glibc refuses 32 and 33)."""
    def ignore():
        libc = ctypes.CDLL(None, use_errno=True)
        for sig in signals:
            act = KernelSigaction(1, 0, None, 0)  # SIG_IGN
            if libc.syscall(13, int(sig), ctypes.byref(act), None, 8) != 0:  # rt_sigaction
                os._exit(120)
    return ignore


def run(*args, rootfs=None, **kw):
    """sandpool run over ROOTFS; returns the parsed result."""
    code, out, err = sandpool("run", "--rootfs", rootfs or ROOTFS, "--id-map", ID_MAP,
                                 *args, **kw)
    if code not in (0, 1):
        raise AssertionError(f"sandpool run exited {code}: {err}")
    lines = out.splitlines()
    if len(lines) != 1:
        raise AssertionError(f"expected one line of JSON, got {out!r} (stderr {err!r})")
    result = json.loads(lines[0])
    if code == 1:
        assert result["status"] == "internal_error", result
    return result


def static(*args, **kw):
    return run(*args, rootfs=STATIC, **kw)


def processes_named(name):
    """Host pids whose command name is NAME."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() == name:
                    found.append(int(pid))
        except OSError:
            pass
    return found


def cgroup_mode():
    return run("--", "/bin/true")["cgroup"]


class Basics(unittest.TestCase):
    def test_python_hello(self):
        r = run("--", "python3", "-c", "print('Hello World!')")
        self.assertEqual(r["status"], "ok", r)
        self.assertEqual(r["stdout"], "Hello World!\n")
        self.assertEqual(r["stderr"], "")
        self.assertEqual(r["exit_code"], 0)
        self.assertIsNone(r["signal"])
        self.assertFalse(r["truncated"])
        self.assertGreater(r["wall_ms"], 0)

    def test_stdin_sum(self):
        with tempfile.NamedTemporaryFile("w", suffix=".in") as f:
            f.write("17 25\n")
            f.flush()
            os.chmod(f.name, 0o644)
            r = run("--stdin", f.name, "--", "python3", "-c",
                    "print(sum(map(int, input().split())))")
        self.assertEqual(r["status"], "ok", r)
        self.assertEqual(r["stdout"], "42\n")

    def test_large_stdin_streams(self):
        with tempfile.NamedTemporaryFile(suffix=".in") as f:
            f.write(os.urandom(5_000_000))
            f.flush()
            os.chmod(f.name, 0o644)
            r = run("--stdin", f.name, "--", "wc", "-c")
            self.assertEqual(r["stdout"], "5000000\n", r)
            # a job that reads a little and leaves does not upset sandpool
            r = run("--stdin", f.name, "--", "sh", "-c", "head -c 10 >/dev/null; echo done")
            self.assertEqual(r["stdout"], "done\n", r)

    def test_stdin_file_cannot_be_written_through(self):
        """The job gets a pipe, never the host file: reopening its fd 0 for
        writing cannot reach the file (it could when the job runs as the
        file's owner, with a single mapped id)."""
        with tempfile.TemporaryDirectory() as d:
            os.chmod(d, 0o755)
            path = os.path.join(d, "input")
            with open(path, "w") as f:
                f.write("original\n")
            os.chmod(path, 0o644)
            r = run("--stdin", path, "--", "sh", "-c",
                    "echo pwned > /proc/self/fd/0; ls -l /proc/self/fd/0")
            with open(path) as f:
                self.assertEqual(f.read(), "original\n", r)
            self.assertIn("pipe:", r["stdout"], r)

    def test_stderr_and_exit_code(self):
        r = run("--", "sh", "-c", "echo oops >&2; exit 3")
        self.assertEqual(r["status"], "runtime_error")
        self.assertEqual(r["exit_code"], 3)
        self.assertEqual(r["stderr"], "oops\n")

    def test_clean_environment(self):
        r = run("--env", "GREETING=hi", "--", "/usr/bin/env")
        env = sorted(r["stdout"].splitlines())
        self.assertEqual(env, ["GREETING=hi",
                               "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])

    def test_file_copied_into_box(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "main.py")
            with open(path, "w") as f:
                f.write("import os\nprint(os.getcwd(), open('main.py').read().count('\\n'))\n")
            os.chmod(d, 0o755)
            os.chmod(path, 0o644)
            r = run("--file", path, "--", "python3", "main.py")
        self.assertEqual(r["stdout"], "/box 2\n", r)

    def test_signal_is_runtime_error(self):
        r = run("--", "sh", "-c", "kill -SEGV $$")
        self.assertEqual(r["status"], "runtime_error")
        self.assertEqual(r["signal"], signal.SIGSEGV)
        self.assertIsNone(r["exit_code"])

    def test_missing_command_is_runtime_error(self):
        r = run("--", "/no/such/program")
        self.assertEqual(r["status"], "runtime_error", r)
        self.assertEqual(r["exit_code"], 127)
        self.assertIn("No such file", r["error"])

    def test_binary_output_is_base64(self):
        r = run("--", "printf", "\\377\\376ok")
        self.assertEqual(r["stdout_encoding"], "base64")
        self.assertEqual(r["stdout"], "//5vaw==")

    def test_box_is_fresh_tmpfs(self):
        r = run("--", "sh", "-c", "ls -A /box /tmp /dev/shm; stat -f -c %T /box")
        self.assertEqual(r["stdout"], "/box:\n\n/dev/shm:\n\n/tmp:\ntmpfs\n", r)


class Limits(unittest.TestCase):
    def test_memory_bomb(self):
        r = static("--memory", "64M", "--", "/bin/memory-bomb")
        if cgroup_mode() == "none":
            # rlimit only: the allocation fails inside the program
            self.assertEqual(r["status"], "runtime_error", r)
            self.assertIn("malloc failed", r["stdout"])
        else:
            self.assertEqual(r["status"], "memory_limit", r)
            self.assertLessEqual(r["memory_kb"], 64 * 1024 + 1024)
            self.assertGreater(r["memory_kb"], 32 * 1024)

    def test_python_memory_bomb(self):
        r = run("--memory", "64M", "--", "python3", "-c", "x = bytearray(200 << 20)")
        self.assertIn(r["status"], ("memory_limit", "runtime_error"), r)
        if cgroup_mode() != "none":
            self.assertEqual(r["status"], "memory_limit", r)

    def test_fork_bomb(self):
        start = time.monotonic()
        r = static("--pids", "32", "--wall", "2s", "--cpu", "20s", "--", "/bin/fork-bomb")
        elapsed = time.monotonic() - start
        self.assertEqual(r["status"], "time_limit", r)
        self.assertLess(r["wall_ms"], 2000 + 1500)
        self.assertLess(elapsed, 15)
        self.assertEqual(processes_named("fork-bomb"), [])

    def test_thread_bomb(self):
        r = static("--pids", "32", "--", "/bin/thread-bomb")
        self.assertEqual(r["status"], "ok", r)
        threads = int(r["stdout"].split()[0])
        self.assertLess(threads, 32)
        self.assertGreater(threads, 0)

    def test_busy_loop(self):
        r = run("--cpu", "1s", "--wall", "10s", "--", "python3", "-c", "while True: pass")
        self.assertEqual(r["status"], "time_limit", r)
        self.assertGreaterEqual(r["cpu_ms"], 900)
        self.assertLess(r["wall_ms"], 9000)

    def test_cpu_of_all_threads_counts(self):
        # the main thread only waits: the time is the four workers'
        r = static("--cpu", "1s", "--wall", "30s", "--", "/bin/cpu-threads")
        self.assertEqual(r["status"], "time_limit", r)
        self.assertGreaterEqual(r["cpu_ms"], 1000, r)
        # stopped by the cpu limit, not by the wall clock
        self.assertLess(r["wall_ms"], 20000, r)

    def test_sleep_hits_wall(self):
        r = run("--wall", "1s", "--", "sleep", "30")
        self.assertEqual(r["status"], "time_limit", r)
        self.assertGreaterEqual(r["wall_ms"], 1000)
        self.assertLess(r["wall_ms"], 3000)
        self.assertLess(r["cpu_ms"], 500)

    def test_wall_limit_is_never_cut_short(self):
        # the limit counts from the job's own start: a job stopped by it
        # always had all of it
        for _ in range(20):
            r = run("--wall", "40ms", "--", "sleep", "5")
            self.assertEqual(r["status"], "time_limit", r)
            self.assertGreaterEqual(r["wall_ms"], 40, r)
            self.assertLess(r["wall_ms"], 1000, r)

    def test_blocked_stdin_read_hits_wall(self):
        with tempfile.TemporaryDirectory() as d:
            os.chmod(d, 0o755)
            fifo = os.path.join(d, "in")
            os.mkfifo(fifo, 0o666)
            keep = os.open(fifo, os.O_RDWR)  # a writer that never writes
            try:
                r = run("--wall", "1s", "--stdin", fifo, "--", "cat")
            finally:
                os.close(keep)
        self.assertEqual(r["status"], "time_limit", r)
        self.assertLess(r["wall_ms"], 3000)

    def test_sigstop_is_killed_at_wall(self):
        r = run("--wall", "1s", "--", "sh", "-c", "kill -STOP $$")
        self.assertEqual(r["status"], "time_limit", r)

    def test_output_flood(self):
        out, maxrss_kb = sandpool_peak_kb("run", "--rootfs", STATIC, "--id-map", ID_MAP,
                                          "--output", "1M", "--", "/bin/flood")
        r = json.loads(out)
        self.assertEqual(r["status"], "output_limit", r["status"])
        self.assertTrue(r["truncated"])
        self.assertEqual(len(r["stdout"]), 1 << 20)
        # sandpool keeps at most the limit: its peak stays far below the 8 MB+
        # that reading everything would take within the wall time
        self.assertLess(maxrss_kb, 16 * 1024, "sandpool's own memory must stay bounded")

    def test_file_size_limit(self):
        r = static("--file-size", "10M", "--", "/bin/write-file")
        self.assertEqual(r["status"], "output_limit", r)
        self.assertEqual(r["signal"], signal.SIGXFSZ)

    def test_daemon_does_not_survive(self):
        r = static("--", "/bin/daemon")
        self.assertEqual(r["status"], "ok", r)
        self.assertEqual(r["stdout"], "daemon started\n")
        self.assertEqual(processes_named("daemon"), [])

    def test_open_files_limit(self):
        r = run("--open-files", "16", "--", "python3", "-c",
                "import os\nfds=[]\ntry:\n  while True: fds.append(os.open('/dev/null', 0))\n"
                "except OSError as e: print(len(fds) + 3, e.errno)")
        self.assertEqual(r["stdout"], "16 24\n", r)


class Isolation(unittest.TestCase):
    def test_hostname(self):
        r = run("--", "hostname")
        self.assertEqual(r["stdout"], "sandpool\n")

    def test_signals_start_default(self):
        # nothing ignored, nothing blocked: neither the cell's own signal
        # handling nor what sandpool's parent ignored leaks into the job, not
        # even the two signals glibc keeps for itself (32 and 33)
        proc = subprocess.run([BIN, "run", "--rootfs", ROOTFS, "--id-map", ID_MAP, "--",
                               "cat", "/proc/self/status"], capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=60,
                              preexec_fn=ignore_signals(signal.SIGPIPE, 32, 33))
        r = json.loads(proc.stdout.decode().splitlines()[-1])
        self.assertEqual(r["status"], "ok", r)
        fields = dict(line.split(":\t", 1) for line in r["stdout"].splitlines() if ":\t" in line)
        self.assertEqual(fields["SigIgn"], "0000000000000000", r["stdout"])
        self.assertEqual(fields["SigBlk"], "0000000000000000", r["stdout"])

    def test_low_pid_and_no_host_process(self):
        r = run("--", "sh", "-c", "echo $$; ls /proc | grep -c '^[0-9]'")
        pid, count = r["stdout"].split()
        self.assertLessEqual(int(pid), 3)
        self.assertLessEqual(int(count), 4, r)

    def test_only_loopback(self):
        r = run("--", "cat", "/proc/net/dev")
        ifaces = [line.split(":")[0].strip() for line in r["stdout"].splitlines()[2:]]
        self.assertEqual(ifaces, ["lo"])
        r = run("--", "python3", "-c",
                "import socket\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen()\n"
                "c=socket.create_connection(s.getsockname())\nprint('lo works')")
        self.assertEqual(r["stdout"], "lo works\n", r)

    def test_host_canary_invisible(self):
        with tempfile.NamedTemporaryFile("w", prefix="sandpool-canary-", dir="/tmp") as f:
            f.write("secret")
            f.flush()
            os.chmod(f.name, 0o644)
            r = run("--", "sh", "-c", f"cat {f.name}; ls -A /tmp; ls /home")
        self.assertNotIn("secret", r["stdout"])
        self.assertIn("No such file", r["stderr"])
        self.assertNotIn("sandpool-canary", r["stdout"])

    def test_mount_table(self):
        """Exactly the sandbox's mounts, with the flags of the isolation
        checklist: nothing of the host's mount table shows through."""
        r = run("--", "cat", "/proc/self/mountinfo")
        mounts = {}
        for line in r["stdout"].splitlines():
            fields = line.split()
            sep = fields.index("-")
            mounts[fields[4]] = (fields[3], set(fields[5].split(",")), fields[sep + 1])
        masked = [f"/proc/{name}" for name in
                  ("kcore", "keys", "timer_list", "sched_debug", "latency_stats", "timer_stats",
                   "kallsyms", "kpagecount", "kpageflags", "kpagecgroup", "sysrq-trigger")
                  if os.path.exists(f"/proc/{name}")]
        read_only = [f"/proc/{name}" for name in ("sys", "irq", "bus", "fs", "acpi", "scsi")
                     if os.path.isdir(f"/proc/{name}")]
        devices = [f"/dev/{name}" for name in ("null", "zero", "full", "random", "urandom")]
        expected = {"/", "/proc", "/dev", "/box", "/tmp", "/dev/shm",
                    *masked, *read_only, *devices}
        self.assertEqual(set(mounts), expected)
        self.assertLessEqual({"ro", "nosuid", "nodev"}, mounts["/"][1])
        self.assertLessEqual({"ro", "nosuid", "nodev", "noexec"}, mounts["/proc"][1])
        self.assertEqual(mounts["/proc"][2], "proc")
        for path in read_only:
            self.assertIn("ro", mounts[path][1], path)
        for path in masked:
            self.assertEqual(mounts[path][0], "/null", path)
        self.assertLessEqual({"ro", "nosuid", "noexec"}, mounts["/dev"][1])
        for path in devices:
            self.assertEqual(mounts[path][0], "/" + os.path.basename(path))
            self.assertLessEqual({"nosuid", "noexec"}, mounts[path][1])
        for path in ("/box", "/tmp", "/dev/shm"):
            self.assertEqual(mounts[path][2], "tmpfs", path)
            self.assertLessEqual({"rw", "nosuid", "nodev"}, mounts[path][1], path)

    def test_proc_sys_read_only(self):
        r = run("--", "sh", "-c", "echo 1 > /proc/sys/kernel/ns_last_pid")
        self.assertEqual(r["status"], "runtime_error")
        self.assertRegex(r["stderr"], "Read-only|Permission denied")

    def test_no_sys(self):
        r = run("--", "sh", "-c", "ls -A /sys | wc -l")
        self.assertEqual(r["stdout"], "0\n")

    def test_dangerous_syscalls_refused(self):
        r = static("--", "/bin/probe-syscalls")
        self.assertEqual(r["status"], "ok", r["stdout"])
        self.assertIn("0 allowed", r["stdout"])

    def test_file_system_escapes_refused(self):
        r = static("--", "/bin/probe-fs")
        self.assertEqual(r["status"], "ok", r["stdout"])

    def test_no_privileges(self):
        r = static("--", "/bin/probe-privs")
        self.assertEqual(r["status"], "ok", r["stdout"])
        for cap in ("CapEff", "CapPrm", "CapBnd", "CapAmb", "CapInh"):
            self.assertIn(f"{cap}:\t0000000000000000", r["stdout"])
        self.assertIn("NoNewPrivs:\t1", r["stdout"])

    def test_setuid_root_binary_gains_nothing(self):
        path = os.path.join(STATIC, "bin/probe-privs-setuid")
        if not os.path.exists(path) or not os.stat(path).st_mode & stat.S_ISUID:
            self.skipTest("static rootfs has no setuid-root probe (made only as root)")
        r = static("--", "/bin/probe-privs-setuid")
        self.assertEqual(r["status"], "ok", r["stdout"])
        uid = r["stdout"].split()[1]
        self.assertIn(f"uid {uid} euid {uid} suid {uid}", r["stdout"])

    def test_only_stdio_open(self):
        r = static("--", "/bin/probe-fds")
        self.assertEqual(r["stdout"], "fd 0\nfd 1\nfd 2\n", r)

    def test_32bit_syscall_killed(self):
        bare = subprocess.run([os.path.join(STATIC, "bin/int80")], capture_output=True)
        r = static("--", "/bin/int80")
        if bare.returncode == -signal.SIGSEGV:
            # this kernel has no 32-bit entry: int 0x80 faults before seccomp
            self.assertEqual(r["signal"], signal.SIGSEGV, r)
        else:
            self.assertEqual(r["status"], "syscall_blocked", r)
            self.assertEqual(r["signal"], signal.SIGSYS)

    def test_jobs_do_not_share_tmp(self):
        first = run("--", "sh", "-c", "echo left > /tmp/leftover; echo x > /dev/shm/y")
        self.assertEqual(first["status"], "ok", first)
        r = run("--", "sh", "-c", "ls -A /tmp /dev/shm")
        self.assertNotIn("leftover", r["stdout"])
        self.assertNotIn("y", r["stdout"].split())


def own_cgroup_dir(controller):
    """Our cgroup in a v1 hierarchy, or None."""
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if controller in controllers.split(","):
                base = f"/sys/fs/cgroup/{controller}"
                return base + path if os.path.isdir(base) else None
    return None


class Cleanup(unittest.TestCase):
    def test_cgroups_left_by_a_killed_sandpool_are_removed(self):
        own = own_cgroup_dir("pids") if os.geteuid() == 0 else None
        if own is None or cgroup_mode() != "v1":
            self.skipTest("needs root and a cgroup v1 pids hierarchy")
        stale = os.path.join(own, "sandpool-run-999999999")
        os.makedirs(os.path.join(stale, "job-1-1"), exist_ok=True)
        r = run("--", "/bin/true")
        self.assertEqual(r["status"], "ok", r)
        self.assertFalse(os.path.exists(stale))


def busybox_tree(parent, name="tree"):
    """PARENT/NAME: busybox and bin/sh, nothing else (no box, tmp, proc,
    dev or sys), as a tree unpacked by hand may be."""
    root = os.path.join(parent, name)
    os.makedirs(os.path.join(root, "bin"))
    shutil.copy(BUSYBOX, os.path.join(root, "bin/busybox"))
    os.symlink("busybox", os.path.join(root, "bin/sh"))
    subprocess.run(["chmod", "-R", "a+rX", root], check=True)
    return root


def listing(root):
    """Every entry of ROOT, ROOT too, never through a symlink: type and mode,
    owner, size, times, inode, link target and content."""
    entries = []
    for dirpath, dirs, files in os.walk(root):
        for name in [".", *dirs, *files]:
            path = os.path.normpath(os.path.join(dirpath, name))
            st = os.lstat(path)
            extra = None
            if stat.S_ISLNK(st.st_mode):
                extra = os.readlink(path)
            elif stat.S_ISREG(st.st_mode) and os.access(path, os.R_OK):
                with open(path, "rb") as f:
                    extra = hashlib.sha256(f.read()).hexdigest()
            entries.append((os.path.relpath(path, root), st.st_mode, st.st_uid, st.st_gid,
                            st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, extra))
    return sorted(entries)


# What a job needs of the mount points: /box, its working directory, and /tmp
# writable, /proc, /dev/null; and an empty /sys.
PROBE = ("pwd; echo box > /box/f && echo tmp > /tmp/f && cat /box/f /tmp/f && "
         "test -r /proc/self/status && echo x > /dev/null && test -c /dev/null && "
         "ls -A /box /tmp /sys && echo ok")
PROBE_OUT = "/box\nbox\ntmp\n/box:\nf\n\n/sys:\n\n/tmp:\nf\nok\n"


def unshare_mount(setup, *args):
    """`sandpool run ARGS` in a private mount namespace after the shell
    commands SETUP: (exit status, stdout, stderr). Rootless, the namespace
    comes with a user namespace where we are root: one id, so --id-map single."""
    script = f"set -e; {setup}; exec \"$0\" \"$@\""
    unshare = ["unshare", "--mount", "--propagation", "private"]
    id_map = ID_MAP
    if os.geteuid() != 0:
        unshare[1:1] = ["--user", "--map-root-user"]
        id_map = "single"
    proc = subprocess.run([*unshare, "sh", "-c", script, BIN, "run", "--id-map", id_map, *args],
                          capture_output=True, stdin=subprocess.DEVNULL, timeout=60)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def parse_run(code, out, err):
    if code not in (0, 1) or len(out.splitlines()) != 1:
        raise AssertionError(f"sandpool run exited {code}: {out!r} {err!r}")
    return json.loads(out)


@unittest.skipUnless(os.path.exists(BUSYBOX), "no static busybox")
class PlainTrees(unittest.TestCase):
    """A tree as mmdebstrap, debootstrap or docker export leave it, without
    /box, /tmp, /proc, /dev or /sys, runs as it is: sandpool provides the
    mount points and writes nothing into the tree, which may be read-only or
    someone else's. A mount point that is a symlink or a file is covered, and
    nothing is read or written through the link."""

    def setUp(self):
        self.base = tempfile.mkdtemp(prefix="sandpool-tree-")
        os.chmod(self.base, 0o755)
        self.tree = busybox_tree(self.base)
        # where a link may point: must stay empty, and is writable by anyone
        self.host = os.path.join(self.base, "host")
        os.mkdir(self.host)
        os.chmod(self.host, 0o1777)
        # and a secret a link may point at: never read
        self.secret = os.path.join(self.base, "secret")
        os.mkdir(self.secret)
        with open(os.path.join(self.secret, "canary"), "w") as f:
            f.write("secret-canary\n")
        subprocess.run(["chmod", "-R", "a+rX", self.secret], check=True)

    def tearDown(self):
        subprocess.run(["chmod", "-R", "u+rwX", self.base], capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)

    def probe(self, tree, script=PROBE):
        """Run SCRIPT over TREE; TREE is the same after, entry for entry."""
        before = listing(tree)
        r = run("--", "/bin/sh", "-c", script, rootfs=tree)
        self.assertEqual(listing(tree), before, r)
        return r

    def assert_probe_ok(self, r):
        self.assertEqual(r["status"], "ok", r)
        self.assertEqual(r["stdout"], PROBE_OUT, r)

    def test_tree_without_mount_points_runs(self):
        self.assert_probe_ok(self.probe(self.tree))

    def test_read_only_tree(self):
        subprocess.run(["chmod", "-R", "a-w", self.tree], check=True)
        self.assert_probe_ok(self.probe(self.tree))

    def test_tree_of_another_user(self):
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", "65534:65534", self.tree], check=True)
            subprocess.run(["chmod", "-R", "a-w", self.tree], check=True)
            tree = self.tree
        elif PLAIN:
            tree = PLAIN
        else:
            self.skipTest("SANDPOOL_PLAIN_ROOTFS (a tree of another user) not given")
        self.assertNotEqual(os.stat(tree).st_uid, os.geteuid())
        self.assert_probe_ok(self.probe(tree))

    def test_read_only_bind_mount(self):
        before = listing(self.tree)
        r = parse_run(*unshare_mount(
            f"mount --bind {self.tree} {self.tree}; mount -o remount,bind,ro {self.tree}",
            "--rootfs", self.tree, "--", "/bin/sh", "-c", PROBE))
        self.assert_probe_ok(r)
        self.assertEqual(listing(self.tree), before)

    def test_mount_points_that_are_links_or_files(self):
        """box, tmp, proc, dev and sys each a symlink (to /etc, to a host
        directory, to a secret, to ..) or a regular file: the job sees a
        fresh mount point there, nothing goes through the link."""
        kinds = {"etc": "/etc", "host": self.host, "secret": self.secret, "up": "..",
                 "file": None}
        for name in ("box", "tmp", "proc", "dev", "sys"):
            for kind, target in kinds.items():
                with self.subTest(name=name, kind=kind):
                    path = os.path.join(self.tree, name)
                    if target is None:
                        with open(path, "w") as f:
                            f.write("a file\n")
                    else:
                        os.symlink(target, path)
                    secret = listing(self.secret)
                    try:
                        r = self.probe(self.tree, PROBE + f"; cat /{name}/canary")
                    finally:
                        os.unlink(path)
                    self.assertEqual(os.listdir(self.host), [], r)
                    self.assertEqual(listing(self.secret), secret, r)
                    self.assertNotIn("secret-canary", r["stdout"] + r["stderr"])
                    self.assertEqual(r["status"], "runtime_error", r)
                    self.assertEqual(r["stdout"], PROBE_OUT, r)

    def test_sys_of_the_tree_is_kept(self):
        """A tree's own /sys (a directory) shows as it is, as before."""
        os.mkdir(os.path.join(self.tree, "sys"))
        with open(os.path.join(self.tree, "sys", "note"), "w") as f:
            f.write("mine\n")
        subprocess.run(["chmod", "-R", "a+rX", self.tree], check=True)
        r = self.probe(self.tree, "cat /sys/note")
        self.assertEqual(r["stdout"], "mine\n", r)


@unittest.skipUnless(os.path.exists(BUSYBOX), "no static busybox")
class KernelWithoutOverlay(unittest.TestCase):
    """Where the kernel refuses the overlay, the tree must hold its mount
    points itself: a missing one, a symlink or a file is refused by name and
    never followed. The kernel is made to refuse here by stacking: the tree
    lies in an overlay of an overlay, and overlayfs stacks two deep at most."""

    def setUp(self):
        self.base = tempfile.mkdtemp(prefix="sandpool-nooverlay-")
        os.chmod(self.base, 0o755)
        for d in ("a", "b", "c", "one", "two"):
            os.mkdir(os.path.join(self.base, d))
        self.tree = busybox_tree(os.path.join(self.base, "a"))
        self.host = os.path.join(self.base, "host")
        os.mkdir(self.host)
        os.chmod(self.host, 0o1777)

    def tearDown(self):
        shutil.rmtree(self.base, ignore_errors=True)

    def run_stacked(self, script=PROBE):
        """SCRIPT over the tree seen through two stacked overlays."""
        b = self.base
        setup = (f"mount -t overlay overlay -o lowerdir={b}/a:{b}/b {b}/one; "
                 f"mount -t overlay overlay -o lowerdir={b}/one:{b}/c {b}/two")
        return parse_run(*unshare_mount(setup, "--rootfs", f"{b}/two/tree", "--", "/bin/sh", "-c",
                                        script))

    def add(self, *names):
        for name in names:
            os.mkdir(os.path.join(self.tree, name))

    def test_tree_with_its_mount_points_runs(self):
        self.add("box", "tmp", "proc", "dev")
        before = listing(self.tree)
        r = self.run_stacked("grep ' / / ' /proc/self/mountinfo; " + PROBE.replace(" /sys", ""))
        self.assertEqual(r["status"], "ok", r)
        # the bind mount, not the overlay
        self.assertNotIn(" - overlay ", r["stdout"].splitlines()[0], r)
        self.assertEqual(listing(self.tree), before)

    def test_a_missing_mount_point_is_named(self):
        for missing in ("box", "tmp", "proc", "dev"):
            with self.subTest(missing=missing):
                shutil.rmtree(self.tree)
                self.tree = busybox_tree(os.path.join(self.base, "a"))
                self.add(*[n for n in ("box", "tmp", "proc", "dev") if n != missing])
                r = self.run_stacked()
                self.assertEqual(r["status"], "internal_error", r)
                self.assertIn(f"has no /{missing} directory", r["error"])

    def test_a_link_or_a_file_is_refused_not_followed(self):
        for name in ("box", "tmp", "proc", "dev"):
            for kind, target in (("host", self.host), ("up", ".."), ("file", None)):
                with self.subTest(name=name, kind=kind):
                    shutil.rmtree(self.tree)
                    self.tree = busybox_tree(os.path.join(self.base, "a"))
                    self.add(*[n for n in ("box", "tmp", "proc", "dev") if n != name])
                    path = os.path.join(self.tree, name)
                    if target is None:
                        with open(path, "w") as f:
                            f.write("a file\n")
                    else:
                        os.symlink(target, path)
                    before = listing(self.tree)
                    r = self.run_stacked()
                    self.assertEqual(os.listdir(self.host), [], r)
                    self.assertEqual(listing(self.tree), before, r)
                    self.assertEqual(r["status"], "internal_error", r)
                    what = "not a directory" if target is None else "a symbolic link"
                    self.assertIn(f"/{name} is {what}", r["error"])
                    self.assertNotIn("Too many levels", r["error"])


class BadInput(unittest.TestCase):
    def expect_usage_error(self, *args, mention=None):
        code, out, err = sandpool("run", *args)
        self.assertEqual(code, 2, (args, out, err))
        self.assertEqual(out, "")
        self.assertTrue(err.startswith("sandpool run: "), err)
        self.assertEqual(len(err.splitlines()), 1, err)
        if mention:
            self.assertIn(mention, err)

    def test_missing_rootfs(self):
        self.expect_usage_error("--rootfs", "/no/such/dir", "--", "true", mention="/no/such/dir")

    def test_rootfs_required(self):
        self.expect_usage_error("--", "true", mention="--rootfs")

    def test_missing_command(self):
        self.expect_usage_error("--rootfs", ROOTFS, mention="no command")

    def test_bad_limits(self):
        for flag, value in (("--memory", "0"), ("--memory", "-5M"), ("--memory", "99999T"),
                            ("--memory", "lots"), ("--cpu", "0"), ("--cpu", "1fortnight"),
                            ("--wall", "-1s"), ("--pids", "0"), ("--pids", "1e9"),
                            ("--output", "nan"), ("--file-size", "inf"), ("--wall", "2h")):
            with self.subTest(flag=flag, value=value):
                self.expect_usage_error("--rootfs", ROOTFS, flag, value, "--", "true",
                                        mention=flag)

    def test_unknown_flag(self):
        self.expect_usage_error("--frobnicate", "--rootfs", ROOTFS, "--", "true",
                                mention="unknown option '--frobnicate'")

    def test_flag_without_value(self):
        self.expect_usage_error("--rootfs", ROOTFS, "--memory", mention="'--memory' needs a value")

    def test_unknown_subcommand(self):
        code, out, err = sandpool("explode")
        self.assertEqual(code, 2)
        self.assertIn("unknown command", err)

    def test_directory_as_stdin(self):
        self.expect_usage_error("--rootfs", ROOTFS, "--stdin", "/", "--", "true",
                                mention="directory")

    def test_rootfs_not_a_directory(self):
        """The rootfs itself must be a directory, not a file; a symlink the
        user names is resolved once, to what it names then."""
        with tempfile.TemporaryDirectory() as d:
            os.chmod(d, 0o755)
            path = os.path.join(d, "file")
            with open(path, "w") as f:
                f.write("not a tree\n")
            self.expect_usage_error("--rootfs", path, "--", "true", mention="not a directory")
            os.symlink(path, os.path.join(d, "to-file"))
            self.expect_usage_error("--rootfs", os.path.join(d, "to-file"), "--", "true",
                                    mention="not a directory")
            link = os.path.join(d, "link")
            os.symlink(ROOTFS, link)
            r = run("--", "/bin/echo", "via link", rootfs=link)
            self.assertEqual((r["status"], r["stdout"]), ("ok", "via link\n"), r)

    def test_check(self):
        code, out, err = sandpool("check", "--json")
        self.assertEqual(code, 0, err)
        report = json.loads(out)
        self.assertIn(report["cgroup"], ("v1", "v2", "none"))
        self.assertTrue(report["user_namespaces"]["available"])
        self.assertIn("memory", report["limits"])
        # whether a rootfs needs mount points of its own (PlainTrees need none)
        self.assertIn(report["rootfs_overlay"]["available"], (True, False))
        code, out, err = sandpool("check")
        self.assertEqual(code, 0, err)
        self.assertIn("rootfs overlay:", out)


if __name__ == "__main__":
    unittest.main()
