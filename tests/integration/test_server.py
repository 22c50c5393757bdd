"""The HTTP API of `sandpool serve`: a real server on loopback, real HTTP.

Environment (set by tools/run-tests):
  SANDPOOL_BIN        the sandpool binary
  SANDPOOL_STATE_DIR  the image store holding the default images
  SANDPOOL_LANGUAGES  tests/languages (the samples)
  SANDPOOL_TEST_QUEUE "redis": every server's queue is in a redis-server of
                      its own (the server runs its warm languages' jobs as a
                      worker of it), so that the same tests run through the
                      Redis backend
"""

import base64
import concurrent.futures
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

import samples
from redisd import Redis

BIN = os.environ.get("SANDPOOL_BIN", "./sandpool")
STATE = os.environ.get("SANDPOOL_STATE_DIR", "")
SAMPLES = os.environ.get("SANDPOOL_LANGUAGES", "tests/languages")
SEED = {"code": "print('Hello World!')", "language": "python"}
TOKEN = "test-token-0123456789abcdef"
QUEUE = os.environ.get("SANDPOOL_TEST_QUEUE", "")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def warm_cells(config):
    """Whether a server of CONFIG keeps warm cells (pool_total is 45 when not
    given)."""
    return config.get("pool_total", 45) > 0 or any(config.get("pool_sizes", {}).values())


def proc_status(pid, key):
    """A number of /proc/PID/status: VmRSS and VmHWM in KiB, Threads."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {key} in /proc/{pid}/status")


class Server:
    """`sandpool serve` (or COMMAND: worker) with CONFIG, stopped by SIGTERM."""

    def __init__(self, config=None, args=(), command="serve", netns=None, host="127.0.0.1",
                 wrap=()):
        self.port = free_port()
        self.redis = self.companion = None
        if QUEUE == "redis" and command == "serve" and "--queue" not in args:
            self.redis = Redis()
            args = [*args, "--queue", self.redis.url]
            if not warm_cells(config or {}):  # a node without cells runs no job
                self.companion = Server(config, ["--queue", self.redis.url], "worker")
        self.dir = tempfile.mkdtemp(prefix="sandpool-serve-")
        os.chmod(self.dir, 0o755)
        cfg = os.path.join(self.dir, "config.json")
        with open(cfg, "w") as f:
            json.dump(config or {}, f)
        cmd = [BIN, command, "--config", cfg, "--listen", f"{host}:{self.port}", *args]
        if netns is not None:  # in that network namespace, listening on HOST there
            cmd = ["ip", "netns", "exec", netns, *cmd]
        cmd = [*wrap, *cmd]  # a command that runs the server (unshare, say)
        if STATE:
            cmd += ["--state-dir", STATE]
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        self.url = f"http://{host}:{self.port}"
        try:
            self.wait_ready()
        except BaseException:
            self.proc.kill()
            self.proc.wait()
            self.release_queue()
            raise

    def wait_ready(self):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"sandpool serve exited: {self.output()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=5) as r:
                    if r.status == 200:
                        return
            except (OSError, urllib.error.HTTPError):
                time.sleep(0.05)
        raise AssertionError(f"sandpool serve did not listen: {self.output()}")

    def release_queue(self):
        """The redis-server and the worker this server was given, stopped."""
        if self.companion is not None:
            self.companion.stop()
        if self.redis is not None:
            self.redis.stop()
        self.companion = self.redis = None

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def request(self, method, path, body=None, headers=None, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None
                                            else None)
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers=headers or {})
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return r.status, json.loads(r.read()), r.headers
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read()), e.headers

    def run(self, body, **kw):
        return self.request("POST", "/api/v1/run", body, **kw)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("sandpool serve did not stop on SIGTERM")
        self.log.close()
        subprocess.run(["rm", "-rf", self.dir])
        self.release_queue()
        return code


# Every language with samples (tests/languages); one whose image is not in
# the store is not served, and its tests are skipped with that reason.
LANGUAGES = samples.languages()
# Arguments a shell would mangle: each must reach the program as it is.
ARGS = ["a b", "", "$(id)", "`id`", "'single'", '"double"', "*", "?", "[a-z]", "~",
        "line1\nline2", "tab\there", "h\u00e9llo \u2603 \U0001f600", "-x", "--flag=1",
        "\\back", " lead", "trail ", "$HOME", ";", "|", "&&", ">out", "-"]


def args_echo(args):
    """What tests/languages/*/args.* print for ARGS: BYTES:ARG per line."""
    return "".join(f"{len(a.encode())}:{a}\n" for a in args)


sample = samples.sample


def sample_file(language, name):
    """A file of LANGUAGE's samples: sum.in, hello.out..."""
    with open(os.path.join(SAMPLES, language, name)) as f:
        return f.read()


def run_samples(server, cases, extra, workers=2):
    """Run sample KIND of LANGUAGE for each (LANGUAGE, KIND) of CASES through
    SERVER, two at once (the languages are many, their compilers slow), the
    request's other fields from EXTRA(LANGUAGE, KIND). For each case: (why
    it cannot run, or None; the status; the answer), in the order of CASES."""
    def one(case):
        why = samples.unavailable(case[0]) or samples.skipped(*case)
        if why:
            return why, None, None
        status, r, _ = server.run({"language": case[0], "code": sample(*case),
                                   **extra(*case)})
        return None, status, r

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, cases))


class Api(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server({"pool_total": 9, "max_body": 1 << 20,
                             "max_limits": {"cpu_ms": 10000}})

    @classmethod
    def tearDownClass(cls):
        cls.assertEqual = unittest.TestCase.assertEqual
        code = cls.server.stop()
        assert code == 0, f"sandpool serve exited {code}"

    def test_one_process_is_its_own_worker(self):
        deadline = time.monotonic() + 10
        while True:  # a worker of a shared queue says it is there every 2 s
            status, body, _ = self.server.request("GET", "/api/v1/workers")
            if body.get("workers") or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(status, 200, body)
        self.assertEqual(len(body["workers"]), 1, body)
        me = body["workers"][0]
        self.assertEqual(me["id"].rsplit("-", 1)[1], str(self.server.proc.pid))
        self.assertEqual(set(me["languages"]), samples.available())
        status, health, _ = self.server.request("GET", "/healthz")
        self.assertEqual((health["queue"]["backend"], health["queue"]["reachable"]),
                         (QUEUE or "local", True))

    def test_interleave_gives_both_streams_in_the_order_written(self):
        code = ("import sys, time\nfor i in range(3):\n    print('out', i, flush=True)\n"
                "    time.sleep(0.05)\n    sys.stderr.buffer.write(b'\\xff%d\\n' % i)\n"
                "    sys.stderr.flush()\n    time.sleep(0.05)\n")
        status, r, _ = self.server.run({"language": "python", "code": code, "interleave": True})
        self.assertEqual(status, 200, r)
        # not UTF-8: base64, as stdout and stderr are
        self.assertEqual((r["run"]["output_encoding"], r["run"]["stderr_encoding"]),
                         ("base64", "base64"), r)
        self.assertEqual(base64.b64decode(r["run"]["output"]),
                         b"out 0\n\xff0\nout 1\n\xff1\nout 2\n\xff2\n")
        status, r, _ = self.server.run({"language": "c", "code": "int main(void) { return 0; }",
                                        "interleave": True})
        self.assertEqual((r["compile"]["output"], r["run"]["output"]), ("", ""), r)
        # more turns than a step keeps (4096): nothing is lost past them
        code = "import os\nfor i in range(6000):\n    os.write(1, b'a')\n    os.write(2, b'b')\n"
        status, r, _ = self.server.run({"language": "python", "code": code, "interleave": True})
        self.assertEqual(status, 200, r)
        self.assertEqual((r["run"]["output"].count("a"), r["run"]["output"].count("b"),
                          len(r["run"]["output"])), (6000, 6000, 12000))
        status, r, _ = self.server.run(SEED)
        self.assertNotIn("output", r["run"])
        status, r, _ = self.server.run({**SEED, "interleave": 1})
        self.assertEqual((status, r["error"]["message"]), (400, "interleave must be a boolean"))

    def test_stderr_to_stdout_is_one_stream_in_exact_order(self):
        # no pause between the writes: only one pipe keeps their order
        code = ("import os\nfor i in range(200):\n    os.write(1, b'o%d ' % i)\n"
                "    os.write(2, b'e%d ' % i)\n")
        status, r, _ = self.server.run({"language": "python", "code": code,
                                        "stderr_to_stdout": True})
        self.assertEqual(status, 200, r)
        self.assertEqual(r["run"]["stdout"], "".join(f"o{i} e{i} " for i in range(200)))
        self.assertEqual(r["run"]["stderr"], "")
        status, r, _ = self.server.run({**SEED, "stderr_to_stdout": "yes"})
        self.assertEqual((status, r["error"]["message"]),
                         (400, "stderr_to_stdout must be a boolean"))

    def test_compile_args_go_before_the_source(self):
        c = "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", X); return 0; }\n"
        status, r, _ = self.server.run({"language": "c", "code": c,
                                        "compile_args": ["-DX=42", "-Wall"]})
        self.assertEqual((status, r["status"], r["stdout"]), (200, "ok", "42\n"), r)
        # the last -O wins: the client's comes after the language's own
        status, r, _ = self.server.run({"language": "c", "code": c,
                                        "compile_args": ["-DX=__OPTIMIZE__", "-O0"]})
        self.assertEqual(r["compile"]["status"], "compile_error", r)
        status, r, _ = self.server.run({"language": "python", "code": "print(1)",
                                        "compile_args": ["-O"]})
        self.assertEqual((status, r["error"]["message"]),
                         (400, "compile_args: python is not compiled"))
        status, r, _ = self.server.run({"language": "c", "code": c, "compile_args": "-O"})
        self.assertEqual((status, r["error"]["message"]), (400, "compile_args must be an array"))

    def test_runs_repeat_the_run_and_stop_at_a_failure(self):
        code = ("import os\nn = len(os.listdir('/tmp'))\nopen(f'/tmp/{n}', 'w').close()\n"
                "print(n, input())\nraise SystemExit(n == 2)\n")
        status, r, _ = self.server.run({"language": "python", "code": code, "stdin": "in\n",
                                        "runs": 5})
        self.assertEqual(status, 200, r)
        # each run reads its stdin from the start; the third fails and ends it
        self.assertEqual((r["run"]["runs"], r["run"]["stdout"], r["status"]),
                         (3, "2 in\n", "runtime_error"), r)
        status, r, _ = self.server.run({**SEED, "runs": 2})
        self.assertEqual((r["status"], r["run"]["runs"]), ("ok", 2), r)
        status, r, _ = self.server.run(SEED)
        self.assertNotIn("runs", r["run"])
        for bad in (0, 21, "2", 1.5):
            status, r, _ = self.server.run({**SEED, "runs": bad})
            self.assertEqual((status, r["error"]["message"]),
                             (400, "runs must be a whole number from 1 to 20"), bad)

    def test_echo_comes_back_with_the_answer(self):
        echo = {"mine": [1, "two", {"3": None}], "text": "h\u00e9"}
        status, r, _ = self.server.run({**SEED, "echo": echo})
        self.assertEqual((status, r["echo"]), (200, echo), r)
        status, r, _ = self.server.run({**SEED, "echo": [1]})
        self.assertEqual((status, r["error"]["message"]), (400, "echo must be an object"))
        # a job's view has it before it ends too, then its result has it
        status, job, _ = self.server.request("POST", "/api/v1/jobs", {
            "language": "python", "code": "import time\ntime.sleep(1)", "echo": echo})
        self.assertEqual((status, job.get("echo")), (202, echo), job)
        deadline = time.monotonic() + 30
        while job["state"] != "done" and time.monotonic() < deadline:
            time.sleep(0.1)
            status, job, _ = self.server.request("GET", f"/api/v1/jobs/{job['id']}")
        self.assertEqual((job["state"], job["result"]["echo"]), ("done", echo), job)
        self.assertNotIn("echo", job)

    def test_seed_body(self):
        status, r, _ = self.server.run(SEED)
        self.assertEqual(status, 200, r)
        self.assertEqual(r["status"], "ok", r)
        self.assertEqual(r["stdout"], "Hello World!\n")
        self.assertEqual(r["language"], "python")
        self.assertEqual(r["run"]["exit_code"], 0)
        self.assertIsNone(r["compile"])

    def test_every_language(self):
        cases = [(language, kind) for language in LANGUAGES for kind in ("hello", "sum")]
        results = run_samples(self.server, cases, lambda language, kind: {
            "stdin": sample_file(language, "sum.in") if kind == "sum" else ""})
        for (language, kind), (why, status, r) in zip(cases, results):
            with self.subTest(language=language, sample=kind):
                if why:
                    self.skipTest(why)
                self.assertEqual(status, 200, r)
                self.assertEqual(r["status"], "ok", json.dumps(r)[:2000])
                self.assertEqual(r["stdout"], sample_file(language, kind + ".out"))

    def test_args_reach_every_languages_program_verbatim(self):
        cases = [(language, "args") for language in LANGUAGES]
        results = run_samples(self.server, cases, lambda language, kind: {"args": ARGS})
        for (language, _), (why, status, r) in zip(cases, results):
            with self.subTest(language=language):
                if why:
                    self.skipTest(why)
                self.assertEqual(status, 200, r)
                self.assertEqual(r["status"], "ok", json.dumps(r)[:2000])
                self.assertEqual(r["stdout"], args_echo(ARGS), json.dumps(r)[:2000])

    def test_args_through_the_queue(self):
        status, job, _ = self.server.request("POST", "/api/v1/jobs",
                                             {"language": "c", "code": sample("c", "args"),
                                              "args": ARGS})
        self.assertEqual(status, 202, job)
        status, view = wait_state(self.server, job["id"], ("done",))
        self.assertEqual(view["result"]["stdout"], args_echo(ARGS), view)

    def test_java_starts_threads_under_its_default_limits(self):
        # rootless, without a memory cgroup, the JVM's first heap (1/64 of
        # the host's memory) and its threads' stacks are counted against the
        # process's data limit: with no -Xms, not one more thread started
        code = ("public class Main {\n  public static void main(String[] a) throws Exception {\n"
                "    Thread[] t = new Thread[8];\n    int[] done = new int[8];\n"
                "    for (int i = 0; i < 8; i++) { final int k = i;\n"
                "      t[i] = new Thread(() -> done[k] = k + 1); t[i].start(); }\n"
                "    int sum = 0;\n    for (int i = 0; i < 8; i++) { t[i].join(); sum += done[i]; }\n"
                "    System.out.println(sum);\n  }\n}\n")
        status, r, _ = self.server.run({"language": "java", "code": code})
        self.assertEqual((status, r["status"], r["stdout"]), (200, "ok", "36\n"),
                         json.dumps(r)[:2000])

    def test_java_runs_whatever_its_public_class_is_called(self):
        hello = ("public class HelloWorld {\n    public static void main(String[] args) {\n"
                 "        System.out.println(\"Hello, \" + String.join(\"+\", args));\n"
                 "    }\n}\n")
        cases = [
            ({"code": hello}, "Hello, a b+c\n"),
            ({"code": sample("java", "hello")}, "Hello, World!\n"),  # public class Main
            # a package, a comment and a string that name other classes
            ({"code": "package org.demo;\n// public class Nope {}\npublic final class Greeter {\n"
                      "  static String s = \"public class Str\";\n"
                      "  public static void main(String[] a) {\n"
                      "    System.out.println(Greeter.class.getName());\n  }\n}\n"},
             "org.demo.Greeter\n"),
            # no public class: the one with main runs
            ({"code": "class Helper { static String hi() { return \"hi\"; } }\n"
                      "class Solution { public static void main(String[] a) {\n"
                      "  System.out.println(Helper.hi()); } }\n"}, "hi\n"),
            # files: named as javac wants, or not named at all, with another class beside
            ({"files": [{"name": "HelloWorld.java", "content": hello}]}, "Hello, a b+c\n"),
            ({"files": [{"content": "public class App { public static void main(String[] a) {"
                                    " System.out.println(Util.twice(21)); } }"},
                        {"name": "Util.java", "content": "public class Util {"
                         " static int twice(int x) { return 2 * x; } }"}]}, "42\n"),
        ]
        for body, want in cases:
            with self.subTest(body=str(body)[:60]):
                status, r, _ = self.server.run({"language": "java", "args": ["a b", "c"],
                                                **body})
                self.assertEqual((status, r["status"]), (200, "ok"), json.dumps(r)[:3000])
                self.assertEqual(r["stdout"], want, r)

    def test_compile_and_runtime_errors(self):
        status, r, _ = self.server.run({"language": "c", "code": "int main(){return nope;}"})
        self.assertEqual(r["status"], "compile_error", r)
        self.assertIn("nope", r["compile"]["stderr"])
        status, r, _ = self.server.run({"language": "python", "code": "raise SystemExit(3)"})
        self.assertEqual(r["status"], "runtime_error", r)
        self.assertEqual(r["run"]["exit_code"], 3)

    def test_signals_start_default(self):
        # the server ignores SIGPIPE; its jobs must not
        status, r, _ = self.server.run({"language": "bash",
                                        "code": "grep -E 'SigIgn|SigBlk' /proc/self/status"})
        self.assertEqual(r["stdout"], "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n", r)

    def test_limits(self):
        status, r, _ = self.server.run({"language": "python", "code": "while True: pass",
                                        "limits": {"cpu_ms": 500}})
        self.assertEqual(r["status"], "time_limit", r)
        status, r, _ = self.server.run({"language": "python",
                                        "code": "import sys\nwhile True: sys.stdout.write('x'*4096)",
                                        "limits": {"output_kb": 64}})
        self.assertEqual(r["status"], "output_limit", r)
        self.assertTrue(r["run"]["truncated"])
        status, r, _ = self.server.run({"language": "python", "code": "x = bytearray(300 << 20)",
                                        "limits": {"memory_kb": 65536}})
        self.assertIn(r["status"], ("memory_limit", "runtime_error"), r)
        status, r, _ = self.server.run({"language": "python", "code": "import time\ntime.sleep(30)",
                                        "limits": {"wall_ms": 1000}})
        self.assertEqual(r["status"], "time_limit", r)
        self.assertLess(r["run"]["wall_ms"], 10000, r)
        status, r, _ = self.server.run({"language": "bash",
                                        "code": "exec head -c 4000000 /dev/zero > /box/big",
                                        "limits": {"file_kb": 1024}})
        self.assertEqual(r["status"], "output_limit", r)
        self.assertEqual(r["run"]["signal"], 25, r)  # SIGXFSZ
        forks = ("import os, time\nn = 0\ntry:\n    for _ in range(40):\n"
                 "        if os.fork() == 0:\n            time.sleep(5)\n            os._exit(0)\n"
                 "        n += 1\nexcept OSError:\n    print('stopped at', n)\n")
        status, r, _ = self.server.run({"language": "python", "code": forks,
                                        "limits": {"processes": 8, "wall_ms": 3000}})
        self.assertIn("stopped at", r["stdout"], r)
        self.assertLess(int(r["stdout"].split()[-1]), 8, r)

    def test_binary_output_is_base64(self):
        status, r, _ = self.server.run({"language": "python",
                                        "code": "import sys; sys.stdout.buffer.write(b'\\xff')"})
        self.assertEqual(r["stdout_encoding"], "base64", r)
        self.assertEqual(r["stdout"], "/w==")

    def test_languages(self):
        status, langs, _ = self.server.request("GET", "/api/v1/languages")
        self.assertEqual(status, 200)
        by_name = {l["name"]: l for l in langs}
        # every language file, by name; available when its image is in the store
        self.assertEqual(list(by_name), sorted(samples.language_files()))
        for name, served in by_name.items():
            doc = samples.language_files()[name]
            self.assertEqual(served["compiled"], bool(doc.get("compile")), name)
            self.assertEqual((served["version"], served["aliases"]),
                             (doc["version"], doc.get("aliases", [])), name)
            self.assertEqual(served["available"], name in samples.available(), name)
            self.assertEqual("reason" in served, not served["available"], name)

    def test_metrics(self):
        status, r, _ = self.server.run(SEED)
        self.assertEqual(r["status"], "ok", r)
        with urllib.request.urlopen(self.server.url + "/metrics", timeout=30) as resp:
            self.assertEqual(resp.status, 200)
            self.assertTrue(resp.headers["Content-Type"].startswith("text/plain"))
            text = resp.read().decode()
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                values[name] = float(value)
        self.assertGreaterEqual(values['sandpool_jobs_total{language="python",status="ok"}'], 1)
        self.assertIn('sandpool_cells{language="python",state="idle"}', values)
        for histogram in ("sandpool_queue_wait_seconds", "sandpool_run_seconds",
                          "sandpool_overhead_seconds"):
            count = values[f"{histogram}_count"]
            self.assertGreaterEqual(count, 1)
            self.assertEqual(values[f'{histogram}_bucket{{le="+Inf"}}'], count)

    def test_health(self):
        status, h, _ = self.server.request("GET", "/healthz")
        self.assertEqual(status, 200, h)
        self.assertEqual(h["status"], "ok")
        self.assertIn(h["cgroup"], ("v1", "v2", "none"))
        self.assertIn("python", h["pool"])

    def test_errors(self):
        cases = [
            (dict(raw=b"{not json"), 400, "bad_json"),
            (dict(body={"language": "no-such-language", "code": "x"}), 400, "unknown_language"),
            (dict(body={"language": "python", "code": 7}), 400, "bad_request"),
            (dict(body={"code": "x"}), 400, "bad_request"),
            (dict(body={"language": "python", "code": "x", "limits": {"cpu_ms": 99999}}),
             400, "bad_request"),
            (dict(raw=b"x" * (2 << 20)), 413, "body_too_large"),
        ]
        for kw, want_status, want_code in cases:
            with self.subTest(want=want_code, kw=str(kw)[:80]):
                status, r, _ = self.server.request("POST", "/api/v1/run", **kw)
                self.assertEqual(status, want_status, r)
                self.assertEqual(r["error"]["code"], want_code, r)
                self.assertTrue(r["error"]["message"])
        status, r, _ = self.server.request("GET", "/api/v1/nothing")
        self.assertEqual((status, r["error"]["code"]), (404, "not_found"))
        status, r, headers = self.server.request("GET", "/api/v1/run")
        self.assertEqual(status, 405)


SLEEPER = {"language": "python", "code": "import time\ntime.sleep(60)",
           "limits": {"wall_ms": 90000, "cpu_ms": 5000}}


def wait_state(server, job_id, states, timeout=60):
    """GET the job until its state is one of STATES; the last view."""
    deadline = time.monotonic() + timeout
    while True:
        status, view, _ = server.request("GET", f"/api/v1/jobs/{job_id}")
        if status != 200 or view["state"] in states or time.monotonic() > deadline:
            return status, view
        time.sleep(0.05)


class Jobs(unittest.TestCase):
    """Asynchronous jobs and the queue: one warm python cell, one warm bash
    cell, every other language cold, two queued jobs at most."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server({"pool_total": 0, "pool_sizes": {"python": 1, "bash": 1},
                             "queue_size": 2, "max_limits": {"wall_ms": 120000}})

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        assert code == 0, f"sandpool serve exited {code}"

    def submit(self, body):
        status, view, headers = self.server.request("POST", "/api/v1/jobs", body)
        self.assertEqual(status, 202, view)
        self.assertIn(view["state"], ("queued", "running", "done"))
        self.assertEqual(headers["Location"], f"/api/v1/jobs/{view['id']}")
        return view["id"]

    def cancel(self, job_id):
        status, view, _ = self.server.request("DELETE", f"/api/v1/jobs/{job_id}")
        self.assertEqual(status, 200, view)
        return view

    def test_lifecycle(self):
        job_id = self.submit(SEED)
        status, view = wait_state(self.server, job_id, ("done",))
        self.assertEqual(view["state"], "done", view)
        self.assertEqual(view["result"]["stdout"], "Hello World!\n", view)
        self.assertEqual(view["result"]["id"], job_id)
        self.assertGreaterEqual(view["run_ms"], 0)
        # kept until deleted
        status, again, _ = self.server.request("GET", f"/api/v1/jobs/{job_id}")
        self.assertEqual((status, again["result"]), (200, view["result"]))
        self.cancel(job_id)
        status, r, _ = self.server.request("GET", f"/api/v1/jobs/{job_id}")
        self.assertEqual((status, r["error"]["code"]), (404, "not_found"))
        for path in ("/api/v1/jobs/" + "0" * 32, "/api/v1/jobs/nope", "/api/v1/jobs/" + "g" * 32,
                     "/api/v1/jobs/", "/api/v1/jobs/" + "0" * 32 + "/x"):
            status, r, _ = self.server.request("GET", path)
            self.assertEqual((status, r["error"]["code"]), (404, "not_found"), path)
        status, r, headers = self.server.request("PUT", f"/api/v1/jobs/{job_id}", SEED)
        self.assertEqual(status, 405, r)
        status, r, headers = self.server.request("GET", "/api/v1/jobs")
        self.assertEqual((status, headers["Allow"]), (405, "POST"), r)
        status, r, _ = self.server.request("POST", "/api/v1/jobs",
                                           {"language": "no-such-language", "code": "x"})
        self.assertEqual((status, r["error"]["code"]), (400, "unknown_language"))

    def test_cancel_running_then_the_cell_serves_again(self):
        job_id = self.submit(SLEEPER)
        status, view = wait_state(self.server, job_id, ("running", "done"))
        self.assertEqual(view["state"], "running", view)
        started = time.monotonic()
        self.cancel(job_id)
        status, view = wait_state(self.server, job_id, ("done",))
        self.assertLess(time.monotonic() - started, 20)
        self.assertEqual(view["result"]["status"], "cancelled", view)
        # "running" from the moment a worker takes the job: a loaded host may
        # see the cancel before the step started, which then never runs
        if view["result"]["run"] is not None:
            self.assertEqual(view["result"]["run"]["status"], "cancelled", view)
        status, r, _ = self.server.run(SEED)
        self.assertEqual(r["stdout"], "Hello World!\n", r)

    def test_cancel_queued_queue_full_and_languages_apart(self):
        running = self.submit(SLEEPER)
        wait_state(self.server, running, ("running",))
        queued = [self.submit(SLEEPER), self.submit(SLEEPER)]
        try:
            # the python queue is full: a third waiting job is refused
            status, r, headers = self.server.run(SLEEPER)
            self.assertEqual((status, r["error"]["code"]), (429, "queue_full"), r)
            self.assertEqual(headers["Retry-After"], "1")
            status, r, _ = self.server.request("POST", "/api/v1/jobs", SLEEPER)
            self.assertEqual(status, 429, r)
            status, h, _ = self.server.request("GET", "/healthz")
            self.assertEqual(h["pool"]["python"]["queued"], 2, h)
            self.assertEqual(h["queue"]["queued"], 2, h)
            # bash has its own cell and its own queue: it waits behind nothing
            status, r, _ = self.server.run({"language": "bash", "code": "echo apart"})
            self.assertEqual((status, r["stdout"]), (200, "apart\n"), r)
            status, view, _ = self.server.request("GET", f"/api/v1/jobs/{running}")
            self.assertEqual(view["state"], "running", view)
            # a queued job cancelled never ran
            view = self.cancel(queued[0])
            self.assertEqual(view["state"], "done", view)
            self.assertEqual(view["result"]["status"], "cancelled", view)
            self.assertIsNone(view["result"]["run"], view)
        finally:
            for job_id in [running] + queued:
                self.cancel(job_id)
        status, view = wait_state(self.server, running, ("done",))
        self.assertEqual(view["result"]["status"], "cancelled", view)


class QueueTimeout(unittest.TestCase):
    def test_a_job_that_waits_too_long_gets_429_and_shutdown_answers_waiters(self):
        server = Server({"pool_total": 0, "pool_sizes": {"python": 1}, "queue_timeout_s": 1,
                         "shutdown_grace_s": 1, "max_limits": {"wall_ms": 120000}})
        stopped = False
        try:
            status, view, _ = server.request("POST", "/api/v1/jobs", SLEEPER)
            wait_state(server, view["id"], ("running",))
            started = time.monotonic()
            status, r, headers = server.run(SEED)
            self.assertEqual((status, r["error"]["code"]), (429, "busy"), r)
            self.assertGreaterEqual(time.monotonic() - started, 0.9)
            self.assertEqual(headers["Retry-After"], "1")
            # a queued job expires too
            status, late, _ = server.request("POST", "/api/v1/jobs", SEED)
            status, late = wait_state(server, late["id"], ("done",))
            self.assertEqual(late["result"]["status"], "cancelled", late)
            self.assertIn("queue timeout", late["result"]["error"], late)
            # SIGTERM: the running job is cancelled after the grace period
            waiting = []
            thread = threading.Thread(target=lambda: waiting.append(server.run(SLEEPER)))
            thread.start()
            time.sleep(0.3)
            self.assertEqual(server.stop(), 0)
            stopped = True
            thread.join(30)
            self.assertEqual(waiting[0][0], 503, waiting)
            self.assertEqual(waiting[0][1]["error"]["code"], "draining", waiting)
        finally:
            if not stopped:
                self.assertEqual(server.stop(), 0)


class DefaultLimits(unittest.TestCase):
    def test_default_limits_apply_and_bad_ones_stop_the_start(self):
        server = Server({"pool_total": 0, "pool_sizes": {"python": 1},
                         "default_limits": {"wall_ms": 1500}})
        try:
            status, r, _ = server.run({"language": "python",
                                       "code": "import time\ntime.sleep(30)"})
            self.assertEqual(r["status"], "time_limit", r)
            self.assertLess(r["run"]["wall_ms"], 10000, r)
        finally:
            self.assertEqual(server.stop(), 0)
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump({"default_limits": {"cpu_ms": 90000}, "max_limits": {"cpu_ms": 1000}}, f)
            f.flush()
            proc = subprocess.run([BIN, "serve", "--config", f.name], capture_output=True,
                                  timeout=30)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("default_limits.cpu_ms: 90000 is above", proc.stderr.decode())


class WarmReuse(unittest.TestCase):
    """One warm python cell: job B sees nothing of job A."""

    def test_reset_contract(self):
        server = Server({"pool_sizes": {"python": 1}, "pool_total": 1})
        try:
            job_a = (
                "import os, ctypes, subprocess\n"
                "for d in ('/box', '/tmp', '/dev/shm'):\n"
                "    open(d + '/left', 'w').write('a')\n"
                "libc = ctypes.CDLL(None)\n"
                "print(libc.shmget(0x5eed, 4096, 0o1666) >= 0, libc.msgget(0x5eed, 0o1666) >= 0)\n"
                "subprocess.Popen(['sleep', '1000'], start_new_session=True)\n"
                "os.umask(0o077)\n")
            status, r, _ = server.run({"language": "python", "code": job_a})
            self.assertEqual(r["stdout"], "True True\n", r)
            job_b = (
                "import os\n"
                "print(sorted(os.listdir('/box')), os.listdir('/tmp'), os.listdir('/dev/shm'))\n"
                "print(open('/proc/sysvipc/shm').read().count('\\n'),"
                " open('/proc/sysvipc/msg').read().count('\\n'))\n"
                "print(sum(1 for p in os.listdir('/proc') if p.isdigit()))\n"
                "print(oct(os.umask(0)))\n")
            status, r, _ = server.run({"language": "python", "code": job_b})
            self.assertEqual(r["status"], "ok", r)
            # /box holds only B's own main.py; one header line in each sysvipc file;
            # the cell's init and B itself are the only processes
            self.assertEqual(r["stdout"], "['main.py'] [] []\n1 1\n2\n0o22\n", r)
            status, h, _ = server.request("GET", "/healthz")
            self.assertEqual(h["pool"]["python"]["replaced"], 0, h)
        finally:
            self.assertEqual(server.stop(), 0)

    def test_an_untouched_tmp_is_kept_a_touched_one_made_anew(self):
        """The reset keeps a /tmp or /dev/shm whose root the job left as it
        was mounted (its times to the nanosecond, owner, mode): such a
        tmpfs is what a fresh one is. Anything the job did to it, even a
        listing, makes it anew, empty. (No runtime prepared: its loader goes
        below /tmp.)"""
        server = Server({"pool_sizes": {"python": 1}, "pool_total": 1,
                         "prepare_runtimes": False})
        probe = ("import os, json\n"
                 "print(json.dumps({d: os.stat(d).st_ctime_ns"
                 " for d in ('/box', '/tmp', '/dev/shm')}))\n")

        def run(action=""):
            status, r, _ = server.run({"language": "python", "code": action + probe})
            self.assertEqual((status, r["status"]), (200, "ok"), r)
            return json.loads(r["stdout"].splitlines()[-1])

        def anew(action, where):
            before = run()
            run(action)
            after = run()
            for d in ("/tmp", "/dev/shm"):
                if d == where:
                    self.assertNotEqual(after[d], before[d], (action, d))
                else:
                    self.assertEqual(after[d], before[d], (action, d))
            status, r, _ = server.run({"language": "python", "code":
                                       f"import os\nprint(os.listdir({where!r}))"})
            self.assertEqual(r["stdout"], "[]\n", (action, r))

        try:
            first, second = run(), run()
            # /box holds each job's files: always anew; the others kept
            self.assertNotEqual(first["/box"], second["/box"])
            self.assertEqual((first["/tmp"], first["/dev/shm"]),
                             (second["/tmp"], second["/dev/shm"]))
            anew("import os\nos.listdir('/tmp')\n", "/tmp")
            anew("import os\nopen('/dev/shm/x', 'w').close()\nos.unlink('/dev/shm/x')\n",
                 "/dev/shm")
            anew("import os\nos.mkdir('/tmp/d')\nos.rmdir('/tmp/d')\n", "/tmp")
            anew("import os\nos.utime('/dev/shm')\n", "/dev/shm")
            anew("import os\nos.rename(os.open('/tmp/a', os.O_CREAT) and '/tmp/a', '/tmp/b')\n",
                 "/tmp")
            # an attribute on the root: where the job may set one (rootless
            # with one id, it owns /dev/shm), the next job sees none
            status, r, _ = server.run({"language": "python", "code":
                                       "import os\ntry:\n"
                                       "    os.setxattr('/dev/shm', 'user.left', b'1')\n"
                                       "except OSError as e:\n    print(e.errno)\n"})
            status, r, _ = server.run({"language": "python", "code":
                                       "import os\nprint(os.listxattr('/dev/shm'))"})
            self.assertEqual(r["stdout"], "[]\n", r)
            status, h, _ = server.request("GET", "/healthz")
            self.assertEqual(h["pool"]["python"]["replaced"], 0, h)
        finally:
            self.assertEqual(server.stop(), 0)

    def test_each_job_gets_its_own_limits_and_figures(self):
        """The cell's cgroup outlives its jobs: the limits are written again for
        each job, and cpu time, memory and OOM kills are counted per job."""
        server = Server({"pool_sizes": {"python": 1}, "pool_total": 1})
        big = "x = bytearray(96 << 20)\nprint(len(x) >> 20)"
        burn = ("import time\nt = time.process_time()\n"
                "while time.process_time() - t < 0.3: pass\nprint('done')")

        def run(code, **limits):
            status, r, _ = server.run({"language": "python", "code": code, "limits": limits})
            self.assertEqual(status, 200, r)
            return r

        try:
            status, h, _ = server.request("GET", "/healthz")
            by_cgroup = h["limits"]["memory_by_cgroup"]
            r = run(big, memory_kb=262144)
            self.assertEqual((r["status"], r["stdout"]), ("ok", "96\n"), r)
            self.assertGreater(r["run"]["memory_kb"], 90 * 1024, r)
            r = run(big, memory_kb=49152)
            self.assertEqual(r["status"], "memory_limit" if by_cgroup else "runtime_error", r)
            r = run(burn)
            self.assertEqual(r["status"], "ok", r)
            # counted from this job's start: not the jobs before it
            self.assertGreaterEqual(r["run"]["cpu_ms"], 250, r)
            self.assertLess(r["run"]["cpu_ms"], 3000, r)
            self.assertLess(r["run"]["memory_kb"], 48 * 1024, r)
            r = run(big, memory_kb=262144)
            self.assertEqual(r["status"], "ok", r)
        finally:
            self.assertEqual(server.stop(), 0)

    def test_cold_mode_gives_the_same_results(self):
        jobs = [
            SEED,
            {"language": "python", "code": sample("python", "sum"), "stdin": "17 25\n"},
            {"language": "python", "code": "import sys; print('e', file=sys.stderr); sys.exit(3)"},
            {"language": "python", "code": "while True: pass", "limits": {"cpu_ms": 300}},
            {"language": "python", "code": "while True: print('x' * 1000)",
             "limits": {"output_kb": 1}},
            {"language": "c", "code": sample("c", "sum"), "stdin": "1 2\n"},
            {"language": "c", "code": "int main() { return nope; }"},
        ]

        def outcomes(server):
            seen = []
            for body in jobs + jobs:  # twice: warm cells are reused
                status, r, _ = server.run(body)
                self.assertEqual(status, 200, r)
                seen.append((r["status"], r["stdout"], r["stderr"] if r["run"] else "",
                             r["run"] and r["run"]["exit_code"]))
            return seen

        warm = Server({"pool_total": 0, "pool_sizes": {"python": 1, "c": 1}})
        try:
            warm_seen = outcomes(warm)
            status, h, _ = warm.request("GET", "/healthz")
            self.assertEqual(h["pool"]["python"]["mode"], "warm", h)
        finally:
            self.assertEqual(warm.stop(), 0)
        cold = Server({"pool_total": 0})
        try:
            cold_seen = outcomes(cold)
            status, h, _ = cold.request("GET", "/healthz")
            self.assertEqual((h["pool"]["python"]["mode"], h["pool"]["python"]["idle"]),
                             ("cold", 0), h)
        finally:
            self.assertEqual(cold.stop(), 0)
        self.assertEqual(warm_seen, cold_seen)
        self.assertEqual([s[0] for s in warm_seen[:len(jobs)]],
                         ["ok", "ok", "runtime_error", "time_limit", "output_limit", "ok",
                          "compile_error"])


def children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True).stdout
    return [int(p) for p in out.split()]


def parent(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    return int(text[text.rfind(")") + 2:].split()[1])


def process_running(marker):
    """The process whose last argument is MARKER, or None."""
    for p in os.listdir("/proc"):
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                args = f.read().split(b"\0")[:-1]
        except OSError:
            continue
        if args[-1:] == [marker.encode()]:
            return int(p)
    return None


def cell_running(server, marker, timeout=60):
    """The cell's init (a child of the spawner) above the process whose last
    argument is MARKER, waited for."""
    spawner = children(server.proc.pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = process_running(marker)
        while pid is not None and pid > 1 and parent(pid) not in spawner:
            pid = parent(pid)
        if pid is not None and pid > 1:
            return pid
        time.sleep(0.05)
    raise AssertionError(f"no cell runs {marker}")


def own_cgroups_below(marker):
    """Cgroups whose path holds MARKER, below this process's cgroups in every
    hierarchy (v1 and v2)."""
    points = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fstype, _, opts = right.split()[:3]
            if fstype == "cgroup2":
                points[""] = left.split()[4]
            elif fstype == "cgroup":
                for o in opts.split(","):
                    points[o] = left.split()[4]
    found = []
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, ctrls, path = line.strip().split(":", 2)
            for c in ctrls.split(",") if ctrls else [""]:
                top = os.path.normpath(points.get(c, "/nonexistent") + path)
                for dirpath, _, _ in os.walk(top):
                    if marker in dirpath[len(top):]:
                        found.append(dirpath)
    return sorted(set(found))


class Crash(unittest.TestCase):
    def test_a_killed_cell_is_replaced_unseen(self):
        server = Server({"pool_total": 0, "pool_sizes": {"python": 1}})
        try:
            status, r, _ = server.run(SEED)
            self.assertEqual(r["stdout"], "Hello World!\n", r)
            spawner = children(server.proc.pid)
            cells = [c for s in spawner for c in children(s)]
            self.assertEqual(len(cells), 1, cells)
            os.kill(cells[0], signal.SIGKILL)
            for _ in range(3):
                status, r, _ = server.run(SEED)
                self.assertEqual((status, r["stdout"]), (200, "Hello World!\n"), r)
            status, h, _ = server.request("GET", "/healthz")
            self.assertGreaterEqual(h["pool"]["python"]["replaced"], 1, h)
        finally:
            self.assertEqual(server.stop(), 0)

    def test_a_cell_killed_mid_job_fails_that_job_only(self):
        """kill -9 of a busy cell's init: its job ends internal_error, the job
        running beside it in another cell ends as it would have, and the pool
        is back to its full size."""
        server = Server({"pool_total": 0, "pool_sizes": {"bash": 2}})
        answers = {}

        def submit(key, body):
            answers[key] = server.run(body)

        try:
            marker = "86.4213"
            victim = threading.Thread(target=submit, args=("victim", {
                "language": "bash", "code": f"echo up\nsleep {marker}\n",
                "limits": {"wall_ms": 120000}}))
            bystander = threading.Thread(target=submit, args=("bystander", {
                "language": "bash", "code": "sleep 97.5311 & wait; echo done",
                "limits": {"wall_ms": 120000}}))
            victim.start()
            cell = cell_running(server, marker)
            bystander.start()
            other = cell_running(server, "97.5311")
            self.assertNotEqual(cell, other)
            os.kill(cell, signal.SIGKILL)
            victim.join(timeout=120)
            status, r, _ = answers["victim"]
            self.assertEqual((status, r["status"]), (200, "internal_error"), r)
            # the other job is still running, untouched
            self.assertTrue(bystander.is_alive())
            self.assertIsNotNone(process_running("97.5311"))
            os.kill(process_running("97.5311"), signal.SIGKILL)
            bystander.join(timeout=120)
            status, r, _ = answers["bystander"]
            self.assertEqual((status, r["status"], r["stdout"]), (200, "ok", "done\n"), r)
            deadline = time.monotonic() + 60
            while True:
                status, h, _ = server.request("GET", "/healthz")
                if h["pool"]["bash"]["idle"] == 2 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            self.assertEqual((h["pool"]["bash"]["idle"], h["pool"]["bash"]["busy"]), (2, 0), h)
            self.assertGreaterEqual(h["pool"]["bash"]["replaced"], 1, h)
            self.assertEqual(len([c for s in children(server.proc.pid) for c in children(s)]),
                             2)
            status, r, _ = server.run({"language": "bash", "code": "echo again"})
            self.assertEqual((status, r["stdout"]), (200, "again\n"), r)
        finally:
            self.assertEqual(server.stop(), 0)

    def test_a_killed_spawner_is_started_anew(self):
        """kill -9 of the spawner: the cells it made go on serving, and the
        next cell the pool needs comes from a new spawner, not a hang. No
        cell holds a descriptor it was not given (the spawner's socket): its
        own socket, and its prepared step's socket and stdio (a step of its
        own, its child, once the cell is reset), are all it holds."""
        server = Server({"pool_total": 0, "pool_sizes": {"bash": 1}})
        try:
            status, r, _ = server.run({"language": "bash", "code": "echo one"})
            self.assertEqual((status, r["stdout"]), (200, "one\n"), r)
            [spawner] = children(server.proc.pid)
            [cell] = children(spawner)
            try:
                links = [os.readlink(f"/proc/{cell}/fd/{fd}")
                         for fd in os.listdir(f"/proc/{cell}/fd")]
            except PermissionError:  # rootless: a cell's ids are not ours
                links = None
            if links is not None:
                prepared = len(children(cell))
                self.assertLessEqual(prepared, 1)
                self.assertEqual(len([ln for ln in links if ln.startswith("socket:")]),
                                 1 + prepared, links)
                self.assertEqual(len([ln for ln in links if ln.startswith("pipe:")]),
                                 3 * prepared, links)
            os.kill(spawner, signal.SIGKILL)
            # the warm cell lives on (its parent's death is no signal to it
            # once it is built, rootless too), and still serves
            time.sleep(0.3)
            with open(f"/proc/{cell}/stat") as f:
                self.assertNotEqual(f.read().rsplit(")", 1)[1].split()[0], "Z",
                                    "the cell died with its spawner")
            status, r, _ = server.run({"language": "bash", "code": "echo two"})
            self.assertEqual((status, r["stdout"]), (200, "two\n"), r)
            # the cell killed too: the pool needs a new one
            os.kill(cell, signal.SIGKILL)
            for word in ("three", "four"):
                status, r, _ = server.run({"language": "bash", "code": f"echo {word}"})
                self.assertEqual((status, r["stdout"]), (200, f"{word}\n"), r)
            kids = children(server.proc.pid)
            self.assertEqual(len(kids), 1, kids)
            self.assertNotEqual(kids[0], spawner)
            self.assertIn("the spawner", server.output())
        finally:
            self.assertEqual(server.stop(), 0)

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("unshare"),
                         "a pid namespace of its own (a container's) needs root here")
    def test_the_server_as_the_init_of_its_pid_namespace(self):
        """In a container the server may be pid 1: its spawner's parent is
        then pid 1 too, which is no sign that the server died."""
        server = Server({"pool_total": 0, "pool_sizes": {"bash": 1}},
                        wrap=("unshare", "--pid", "--fork", "--mount-proc",
                              "--kill-child"))
        try:
            [init] = children(server.proc.pid)
            with open(f"/proc/{init}/status") as f:
                self.assertIn("NSpid:", next(ln for ln in f if ln.startswith("NSpid:")))
            status, r, _ = server.run({"language": "bash", "code": "echo from pid 1"})
            self.assertEqual((status, r["stdout"]), (200, "from pid 1\n"), r)
            # a cell killed: the next comes from the spawner, still there
            [spawner] = children(init)
            os.kill(children(spawner)[0], signal.SIGKILL)
            status, r, _ = server.run({"language": "bash", "code": "echo again"})
            self.assertEqual((status, r["stdout"]), (200, "again\n"), r)
        finally:
            # unshare waits for its child and ignores SIGTERM itself
            for pid in children(server.proc.pid):
                os.kill(pid, signal.SIGTERM)
            self.assertEqual(server.proc.wait(timeout=60), 0)

    def test_kill_9_leaves_nothing_running_and_a_restart_works(self):
        """kill -9 of a server in the middle of a job: its spawner, cells and
        job processes die with it; the next server removes the cgroups it
        left, and serves."""
        server = Server({"pool_total": 2})
        status, r, _ = server.run(SEED)
        self.assertEqual(r["stdout"], "Hello World!\n", r)
        status, h, _ = server.request("GET", "/healthz")
        def run_until_killed():
            try:
                server.run({"language": "bash", "code": "sleep 91.3571 & sleep 91.3571",
                            "limits": {"wall_ms": 120000}})
            except OSError:  # the server is killed under it
                pass

        job = threading.Thread(target=run_until_killed, daemon=True)
        job.start()
        cell_running(server, "91.3571")
        spawner = children(server.proc.pid)
        cells = [c for s in spawner for c in children(s)]
        job_processes = [p for c in cells for p in children(c)]
        self.assertEqual(len(spawner), 1)
        self.assertGreaterEqual(len(cells), 2)
        self.assertGreaterEqual(len(job_processes), 1)
        marker = f"sandpool-serve-{server.proc.pid}"
        left = own_cgroups_below(marker)
        self.assertEqual(bool(left), h["cgroup"] != "none", left)
        server.proc.kill()
        server.proc.wait()
        # the spawner, every cell and the job die with the server (parent-death
        # signals, then the end of each cell's pid namespace)
        deadline = time.monotonic() + 10
        alive = spawner + cells + job_processes
        while alive and time.monotonic() < deadline:
            alive = [p for p in alive if os.path.exists(f"/proc/{p}")]
            time.sleep(0.1)
        self.assertEqual(alive, [])
        self.assertIsNone(process_running("91.3571"))
        again = Server({"pool_total": 2})
        try:
            # the dead server's cgroups are gone as soon as the new one listens
            self.assertEqual(own_cgroups_below(marker), [])
            status, r, _ = again.run(SEED)
            self.assertEqual(r["stdout"], "Hello World!\n", r)
        finally:
            self.assertEqual(again.stop(), 0)
        self.assertEqual(own_cgroups_below(f"sandpool-serve-{again.proc.pid}"), [])
        server.log.close()
        subprocess.run(["rm", "-rf", server.dir])


class Tokens(unittest.TestCase):
    def test_token_required_when_configured(self):
        server = Server({"pool_total": 1}, args=("--token", TOKEN))
        try:
            status, r, headers = server.run(SEED)
            self.assertEqual(status, 401, r)
            self.assertEqual(r["error"]["code"], "unauthorized")
            status, r, _ = server.run(SEED, headers={"Authorization": "Bearer wrong-token-000000"})
            self.assertEqual(status, 401)
            status, r, _ = server.run(SEED, headers={"Authorization": f"Bearer {TOKEN}"})
            self.assertEqual(status, 200, r)
            self.assertEqual(r["stdout"], "Hello World!\n")
        finally:
            self.assertEqual(server.stop(), 0)

    def test_non_loopback_without_token_refused(self):
        proc = subprocess.run([BIN, "serve", "--listen", "0.0.0.0:1"], capture_output=True,
                              timeout=30)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("needs an API token", proc.stderr.decode())

    def test_bad_config(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            f.write('{"threads": "many"}')
            f.flush()
            proc = subprocess.run([BIN, "serve", "--config", f.name], capture_output=True,
                                  timeout=30)
        self.assertEqual(proc.returncode, 2)
        self.assertIn('"threads" must be a whole number', proc.stderr.decode())

    def test_missing_directory_value_refused(self):
        proc = subprocess.run([BIN, "serve", "--languages-dir", "--verbose"],
                              capture_output=True, timeout=30)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("'--verbose' is not a directory name", proc.stderr.decode())

    def test_relative_languages_dir(self):
        folder = tempfile.mkdtemp(prefix="sandpool-langs-", dir=os.getcwd())
        try:
            shutil.copy(os.path.join(os.path.dirname(BIN), "languages", "bash.json"), folder)
            os.chmod(folder, 0o755)
            server = Server(args=["--languages-dir", os.path.relpath(folder)])
            try:
                status, body, _ = server.request("GET", "/api/v1/languages")
                self.assertEqual(status, 200)
                self.assertEqual([lang["name"] for lang in body], ["bash"])
            finally:
                server.stop()
        finally:
            shutil.rmtree(folder)


class Unavailable(unittest.TestCase):
    """A language whose image is not in the store is listed as unavailable,
    with why, and a request for it gets a clear error; the others run."""

    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="sandpool-langs-")
        shutil.copy(os.path.join(samples.languages_dir(), "bash.json"), cls.folder)
        with open(os.path.join(samples.languages_dir(), "bash.json")) as f:
            ghost = json.load(f)
        ghost.update(name="ghost", aliases=["spook"], image="no-such-image", version="1.0",
                     judge0={"id": 1999, "name": "Ghost (1.0)"})
        ghost.pop("piston", None)
        with open(os.path.join(cls.folder, "ghost.json"), "w") as f:
            json.dump(ghost, f)
        subprocess.run(["chmod", "-R", "a+rX", cls.folder], check=True)
        cls.server = Server({"pool_total": 1}, args=["--languages-dir", cls.folder])

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.folder)

    def test_listed_with_why(self):
        status, langs, _ = self.server.request("GET", "/api/v1/languages")
        self.assertEqual(status, 200)
        self.assertEqual([(lang["name"], lang["available"]) for lang in langs],
                         [("bash", True), ("ghost", False)])
        self.assertNotIn("reason", langs[0])
        self.assertEqual((langs[1]["version"], langs[1]["aliases"]), ("1.0", ["spook"]))
        self.assertIn("image no-such-image is not in the server's image store",
                      langs[1]["reason"])
        status, health, _ = self.server.request("GET", "/healthz")
        self.assertEqual((status, health["status"]), (200, "ok"))
        self.assertEqual(health["languages"]["available"], 1)
        self.assertEqual(list(health["languages"]["unavailable"]), ["ghost"])
        self.assertIn("left out", self.server.output())

    def test_used_by_name_or_alias(self):
        for name in ("ghost", "spook"):
            for path, body in (("/api/v1/run", {"language": name, "code": "echo x"}),
                               ("/api/v1/jobs", {"language": name, "code": "echo x"}),
                               ("/api/v1/judge", {"language": name, "code": "echo x",
                                                  "tests": [{"stdin": ""}]})):
                with self.subTest(name=name, path=path):
                    status, r, _ = self.server.request("POST", path, body)
                    self.assertEqual((status, r["error"]["code"]),
                                     (400, "language_unavailable"), r)
                    self.assertIn("ghost is not available on this server: its image "
                                  "no-such-image is not in", r["error"]["message"])
        status, r, _ = self.server.run({"language": "bash", "code": "echo still here"})
        self.assertEqual((status, r["stdout"]), (200, "still here\n"), r)

    def test_judge0_calls_it_archived(self):
        status, langs, _ = self.server.request("GET", "/languages")
        self.assertNotIn(1999, [lang["id"] for lang in langs])
        status, langs, _ = self.server.request("GET", "/languages/all")
        self.assertIn({"id": 1999, "name": "Ghost (1.0)", "is_archived": True}, langs)
        status, lang, _ = self.server.request("GET", "/languages/1999")
        self.assertEqual((status, lang["is_archived"]), (200, True))
        status, r, _ = self.server.request("POST", "/submissions?wait=true",
                                           {"language_id": 1999, "source_code": "echo x"})
        self.assertEqual((status, r), (422, {"language_id": [
            "language with id 1999 is archived and cannot be used anymore"]}))

    def test_piston_does_not_list_it(self):
        status, runtimes, _ = self.server.request("GET", "/api/v2/runtimes")
        self.assertEqual([rt["language"] for rt in runtimes], ["bash"])
        status, r, _ = self.server.request("POST", "/api/v2/execute", {
            "language": "ghost", "version": "*", "files": [{"content": "echo x"}]})
        self.assertEqual((status, r["message"]), (400, "ghost-* runtime is unknown"))


if __name__ == "__main__":
    unittest.main()
