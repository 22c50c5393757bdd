"""Prepared runtimes (a language's "prepare"): a program run on a runtime
started before its code came cannot tell it from a fresh start.

Two servers over the same images: one prepares the runtimes of Python,
JavaScript and Java (javac and java) in its warm cells (the default), one
does not
("prepare_runtimes": false). Each probe runs on both; the answers must be
the same but for the figures (time, memory) and "prepared", which the
first one's must say and the second one's must not: argv, __name__,
__file__, the working directory, the environment, the modules loaded, the
descriptors, signals, rlimits, the process's credentials and filter,
stdin, output, exit codes, uncaught exceptions and their tracebacks,
signals that end the program, and the limits that stop it.

Environment (set by tools/run-tests): as test_server.
"""

import unittest

from test_server import Server

FIGURES = ("cpu_ms", "wall_ms", "memory_kb", "prepared")

PY_STATE = r'''
import os, sys, signal
print(sys.argv, sys.orig_argv, __name__, __file__, os.getcwd())
print(sys.path)
print(sorted(sys.modules))
print(sorted(os.environ.items()))
print(sorted(os.listdir("/tmp")), sorted(os.listdir("/box")), sorted(os.listdir(".")))
print(sorted(os.listdir("/proc/self/fd")))
print(sys.flags, sys.stdin.isatty(), sys.stdout.line_buffering, sys.stdin.encoding)
print([str(signal.getsignal(s)) for s in range(1, signal.NSIG) if s not in (9, 19, 32, 33)])
print(sorted(signal.pthread_sigmask(signal.SIG_BLOCK, [])))
with open("/proc/self/status") as f:
    print([l for l in f.read().splitlines()
           if l.split(":")[0] in ("Uid", "Gid", "Groups", "NoNewPrivs", "Seccomp", "Seccomp_filters",
                                  "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "SigBlk",
                                  "SigIgn", "SigCgt", "SigPnd", "ShdPnd", "Threads")])
with open("/proc/self/stat") as f:
    fields = f.read().rsplit(")", 1)[1].split()
print("session leader", int(fields[3]) == os.getpid(), "group leader", int(fields[2]) == os.getpid())
import resource
print([resource.getrlimit(getattr(resource, n)) for n in sorted(dir(resource))
       if n.startswith("RLIMIT_")])
print(repr(sys.stdin.read()))
'''

JS_STATE = r'''
const fs = require('fs');
console.log(process.argv, process.execArgv, require.main === module, __filename, __dirname,
            process.cwd(), module.id, module.paths);
console.log(Object.keys(require.cache), module.children.length, module.parent);
console.log(Object.entries(process.env).sort());
console.log(fs.readdirSync('/tmp'), fs.readdirSync('/box'), fs.readdirSync('/proc/self/fd').length);
console.log(process.stdin.isTTY, process.stdout.isTTY, process.title, process.exitCode);
const status = fs.readFileSync('/proc/self/status', 'utf8').split('\n').filter(l =>
  /^(Uid|Gid|Groups|NoNewPrivs|Seccomp|Seccomp_filters|Cap\w+|SigBlk|SigIgn|SigPnd|ShdPnd):/.test(l));
console.log(status);
console.log(JSON.stringify(fs.readFileSync(0, 'utf8')));
'''


JAVA_STATE = r'''
import java.io.*;
import java.util.*;

public class Main {
    static { System.out.println("static init"); }

    public static void main(String[] args) throws Exception {
        System.out.println(Arrays.toString(args) + " " + System.getProperty("user.dir") + " "
                           + System.getProperty("java.class.path") + " "
                           + System.getProperty("sun.java.command"));
        System.out.println(new TreeMap<>(System.getenv()));
        System.out.println(Arrays.toString(new File("/tmp").list()) + " "
                           + Arrays.toString(new File("/box").list()));
        System.out.println(new File("/proc/self/fd").list().length + " "
                           + Runtime.getRuntime().availableProcessors() + " "
                           + Runtime.getRuntime().maxMemory());
        for (String line : new BufferedReader(new FileReader("/proc/self/status")).lines()
                 .filter(l -> l.matches("(Uid|Gid|NoNewPrivs|Seccomp|Cap\\w+|SigBlk|SigIgn):.*"))
                 .toList())
            System.out.println(line);
        Scanner in = new Scanner(System.in);
        int n = in.nextInt();
        long sum = 0;
        for (int i = 0; i < n; i++) sum += in.nextInt();
        System.out.println("sum " + sum);
    }
}
'''


class Prepared(unittest.TestCase):
    """One warm Python and one warm JavaScript cell on each server."""

    @classmethod
    def setUpClass(cls):
        cells = {"pool_total": 0, "pool_sizes": {"python": 1, "javascript": 1, "java": 1}}
        cls.prepared = Server(cells)
        status, health, _ = cls.prepared.request("GET", "/healthz")
        if health["pool"]["python"]["prepares"] != "runtime":
            # RLIMIT_NPROC, not a pids cgroup, bounds a job's processes:
            # cells prepare nothing (a waiting step would count in it)
            assert not health["limits"]["processes_by_cgroup"], health
            cls.prepared.stop()
            raise unittest.SkipTest("no pids cgroup here: cells prepare nothing")
        # javac and java have theirs by a loader that make builds where a
        # JDK's jvmti.h is (openjdk-17-jdk-headless)
        assert health["pool"]["java"]["prepares"] == "runtime", \
            "Java's runtime is not prepared: is languages/prepare/jvm_agent.so built?"
        try:
            cls.fresh = Server({**cells, "prepare_runtimes": False})
        except BaseException:
            cls.prepared.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        codes = (cls.prepared.stop(), cls.fresh.stop())
        assert codes == (0, 0), f"sandpool serve exited {codes}"

    def both(self, body):
        """BODY on both servers: the answers, without their figures."""
        answers = []
        for server, prepared in ((self.prepared, True), (self.fresh, False)):
            status, r, _ = server.run(body)
            self.assertEqual(status, 200, r)
            for step in ("compile", "run"):
                if r.get(step) is None:
                    continue
                self.assertEqual(r[step].get("prepared", False), prepared, (step, r))
                for key in FIGURES:
                    r[step].pop(key, None)
            r.pop("id")
            answers.append(r)
        return answers

    def same(self, body):
        prepared, fresh = self.both(body)
        self.assertEqual(prepared, fresh)
        return prepared

    def py(self, code, **extra):
        return self.same({"language": "python", "code": code, **extra})

    def js(self, code, **extra):
        return self.same({"language": "javascript", "code": code, **extra})

    # ---- Python -----------------------------------------------------------

    def test_python_sees_a_fresh_start(self):
        r = self.py(PY_STATE, args=["a b", "", "-c"], stdin="line 1\nline 2\n")
        self.assertEqual(r["status"], "ok", r)
        self.assertIn("['main.py', 'a b', '', '-c']", r["stdout"])
        self.assertIn("'line 1\\nline 2\\n'", r["stdout"])
        self.assertNotIn("sandpool", r["stdout"])

    def test_python_exits_as_a_fresh_start(self):
        for code in ("import sys\nsys.exit(3)", "import os\nos._exit(4)",
                     "raise SystemExit('bye')", "print('no newline', end='')",
                     "import os, signal\nos.kill(os.getpid(), signal.SIGTERM)",
                     "import atexit\natexit.register(lambda: print('at exit'))\nprint('main')",
                     "import threading, time\n"
                     "threading.Thread(target=lambda: (time.sleep(0.2), print('late'))).start()"):
            with self.subTest(code=code):
                self.py(code)

    def test_python_uncaught_exceptions_read_the_same(self):
        r = self.py("def f():\n    raise ValueError('bad value')\n\ntry:\n    f()\n"
                    "except ValueError as e:\n    raise KeyError('k') from e\n")
        self.assertEqual(r["status"], "runtime_error", r)
        self.assertIn('File "/box/main.py", line 2, in f', r["stderr"])
        self.assertNotIn("sitecustomize", r["stderr"])
        r = self.py("import sys\nsys.setrecursionlimit(50)\ndef f(): f()\nf()")
        self.assertIn("RecursionError", r["stderr"])

    def test_python_limits_stop_it_as_a_fresh_start(self):
        """The language's own limits (2 s of cpu, 256 MiB): a job with limits
        of its own does not run on a prepared runtime."""
        r = self.py("while True: pass")
        self.assertEqual(r["status"], "time_limit", r)
        r = self.py("x = bytearray(400 * 1024 * 1024)")
        self.assertIn(r["status"], ("memory_limit", "runtime_error"), r)

    def test_each_job_its_own_runtime(self):
        """A prepared runtime serves one job: what one job leaves is gone for
        the next, and the next is prepared again."""
        for _ in range(3):
            status, r, _ = self.prepared.run(
                {"language": "python",
                 "code": "import os, sys\nprint(os.listdir('/tmp'), 'mark' in sys.modules)\n"
                         "open('/tmp/left', 'w').write('x')\nsys.modules['mark'] = sys"})
            self.assertEqual((status, r["stdout"], r["run"].get("prepared")),
                             (200, "[] False\n", True), r)

    def test_a_job_that_does_not_fit_starts_fresh(self):
        """Limits of its own (rlimits the runtime was started under) or
        stderr on stdout: the runtime was made for another run."""
        status, r, _ = self.prepared.run({"language": "python", "code": "print(1)",
                                          "limits": {"cpu_ms": 1500}})
        self.assertEqual((status, r["stdout"]), (200, "1\n"), r)
        self.assertNotIn("prepared", r["run"])
        status, r, _ = self.prepared.run({"language": "python", "code": "print(2)"})
        self.assertEqual((r["stdout"], r["run"].get("prepared")), ("2\n", True), r)

    # ---- Java -------------------------------------------------------------

    def java(self, code, **extra):
        return self.same({"language": "java", "code": code, **extra})

    def test_java_sees_a_fresh_start(self):
        r = self.java(JAVA_STATE, stdin="3\n1 2 3\n")
        self.assertEqual(r["status"], "ok", r)
        self.assertIn("static init\n", r["stdout"])
        self.assertIn("sum 6\n", r["stdout"])

    def test_java_exits_as_a_fresh_start(self):
        for body in ("System.exit(3);", "throw new IllegalStateException(\"bad\");",
                     "Runtime.getRuntime().addShutdownHook(new Thread(() -> "
                     "System.out.println(\"hook\"))); System.out.println(\"main\");",
                     "new Thread(() -> { try { Thread.sleep(200); } catch (Exception e) {} "
                     "System.out.println(\"late\"); }).start();",
                     "int[] a = new int[1]; a[2] = 1;",
                     "main(args);"):
            with self.subTest(body=body):
                self.java("public class Main {\n    public static void main(String[] args) {\n"
                          f"        {body}\n    }}\n}}\n")

    def test_java_static_initializer_failure_reads_the_same(self):
        r = self.java("public class Main {\n    static int x = 1 / Integer.parseInt(\"0\");\n"
                      "    public static void main(String[] args) {}\n}\n")
        self.assertEqual(r["status"], "runtime_error", r)
        self.assertIn("ExceptionInInitializerError", r["stderr"])

    def test_javac_says_the_same(self):
        """Errors and warnings of a compile on a javac warmed up before the
        code came, as a fresh javac says them."""
        r = self.java("public class Main {\n    public static void main(String[] args) {\n"
                      "        int x = \"s\";\n        undefined();\n    }\n}\n")
        self.assertEqual(r["status"], "compile_error", r)
        self.assertIn("incompatible types", r["compile"]["stderr"])
        r = self.java("import java.util.*;\npublic class Main {\n"
                      "    public static void main(String[] args) {\n"
                      "        List l = new ArrayList(); l.add(1); System.out.println(l);\n"
                      "    }\n}\n")
        self.assertEqual(r["status"], "ok", r)
        self.assertIn("unchecked", r["compile"]["stderr"])

    def test_a_java_class_of_another_name_starts_fresh(self):
        """The runtimes were made for Main: a program whose class is another
        runs on a javac and a java started for it."""
        status, r, _ = self.prepared.run(
            {"language": "java", "code": "public class Hello {\n    public static void "
             "main(String[] a) {\n        System.out.println(\"hi\");\n    }\n}\n"})
        self.assertEqual((status, r["stdout"]), (200, "hi\n"), r)
        self.assertNotIn("prepared", r["compile"])
        self.assertNotIn("prepared", r["run"])

    # ---- every step prepared ---------------------------------------------------

    def test_prepare_steps_prepares_the_others_too(self):
        """"prepare_steps": true: a language without a runtime to prepare has
        its steps' sandboxes built before the job, C's compile and run
        both; the jobs answer as they do unprepared."""
        server = Server({"pool_total": 0, "pool_sizes": {"bash": 1, "c": 1},
                         "prepare_steps": True})
        try:
            status, health, _ = server.request("GET", "/healthz")
            self.assertEqual(health["pool"]["bash"]["prepares"], "steps", health)
            for _ in range(2):
                status, r, _ = server.run({"language": "bash", "stdin": "in\n",
                                           "code": "read x; echo \"$x\" $$; echo err >&2; exit 4"})
                self.assertEqual((status, r["status"], r["run"]["exit_code"], r["stderr"]),
                                 (200, "runtime_error", 4, "err\n"), r)
                self.assertTrue(r["stdout"].startswith("in "), r)
                status, r, _ = server.run(
                    {"language": "c", "stdin": "21\n",
                     "code": "#include <stdio.h>\nint main(void) { int x; scanf(\"%d\", &x); "
                             "printf(\"%d\\n\", 2 * x); return 0; }\n"})
                self.assertEqual((status, r["status"], r["stdout"]), (200, "ok", "42\n"), r)
        finally:
            self.assertEqual(server.stop(), 0)

    # ---- JavaScript -----------------------------------------------------------

    def test_javascript_sees_a_fresh_start(self):
        r = self.js(JS_STATE, args=["a b", "", "--x"], stdin="in\n")
        self.assertEqual(r["status"], "ok", r)
        self.assertIn("'a b'", r["stdout"])
        self.assertNotIn("sandpool", r["stdout"])

    def test_javascript_exits_as_a_fresh_start(self):
        for code in ("process.exit(3)", "process.exitCode = 5",
                     "process.on('exit', c => console.log('exit', c)); console.log('main')",
                     "process.kill(process.pid, 'SIGTERM')",
                     "setTimeout(() => console.log('later'), 100)",
                     "Promise.reject(new Error('rejected'))",
                     "function f() { f() } f()"):
            with self.subTest(code=code):
                self.js(code)

    def test_javascript_uncaught_errors_read_the_same(self):
        r = self.js("function f() { throw new TypeError('bad') }\nf()\n")
        self.assertEqual(r["status"], "runtime_error", r)
        self.assertIn("at f (/box/main.js:1:22)", r["stderr"])
        self.assertNotIn("prepare", r["stderr"])


if __name__ == "__main__":
    unittest.main()
