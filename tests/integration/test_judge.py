"""Judge mode through a real `sandpool serve`: POST /api/v1/judge, the same
over /api/v1/jobs and the WebSocket, built-in checkers on tricky outputs,
checker programs (C++ and Python, one that crashes), interactors, limits per
test, and bad requests.

Environment (set by tools/run-tests): as test_server.
"""

import asyncio
import base64
import json
import re
import threading
import time
import unittest
import urllib.request

import websockets

from test_server import Server, wait_state

APLUSB_CPP = r"""#include <iostream>
int main() { long long a, b; std::cin >> a >> b; std::cout << a + b << "\n"; }
"""

# Writes its input back, byte for byte: what a test's stdin holds is the
# program's output, so a test can put any output before a checker.
ECHO_PY = "import sys\nsys.stdout.buffer.write(sys.stdin.buffer.read())\n"

# A testlib-style checker without testlib: checker input output answer.
# Accepts any output whose number equals the answer's; 2 for no number.
SUM_CHECKER_CPP = r"""#include <fstream>
#include <iostream>
#include <string>
int main(int argc, char **argv) {
	if (argc != 4) { std::cerr << "usage: checker input output answer"; return 3; }
	std::ifstream in(argv[1]), out(argv[2]), ans(argv[3]);
	long long a, b, want, got;
	if (!(in >> a >> b) || !(ans >> want)) { std::cerr << "bad test"; return 3; }
	if (!(out >> got)) { std::cerr << "no number in the output"; return 2; }
	if (got != a + b) { std::cerr << "expected " << want << ", found " << got; return 1; }
	std::cerr << "ok " << got;
	return 0;
}
"""

# Any order of the answer's words is right.
ANAGRAM_CHECKER_PY = r"""import sys
_, inp, out, ans = sys.argv
got = sorted(open(out).read().split())
want = sorted(open(ans).read().split())
if got == want:
    sys.exit(0)
print(f"words differ: {got} vs {want}", file=sys.stderr)
sys.exit(1)
"""

# Guess the number in 1..1000000 with at most 25 questions:
# "? x" gets "<", ">" or "=", "! x" answers.
GUESS_INTERACTOR_PY = r"""import sys
secret = int(open(sys.argv[1]).read())
log = open(sys.argv[2], "w")
for asked in range(26):
    line = sys.stdin.readline()
    if not line:
        print("the program said nothing more", file=sys.stderr)
        sys.exit(2)
    kind, value = line.split()
    value = int(value)
    log.write(line)
    if kind == "!":
        if value == secret:
            print(f"found {secret} in {asked} questions", file=sys.stderr)
            sys.exit(0)
        print(f"answered {value}, the number was {secret}", file=sys.stderr)
        sys.exit(1)
    print("<" if secret < value else ">" if secret > value else "=", flush=True)
print("more than 25 questions", file=sys.stderr)
sys.exit(1)
"""

GUESS_CPP = r"""#include <iostream>
#include <string>
int main() {
	long lo = 1, hi = 1000000;
	while (lo < hi) {
		long mid = (lo + hi) / 2;
		std::cout << "? " << mid << std::endl;
		std::string r; std::cin >> r;
		if (r == "=") { lo = hi = mid; break; }
		if (r == "<") hi = mid - 1; else lo = mid + 1;
	}
	std::cout << "! " << lo << std::endl;
}
"""

CHEAT_CPP = r"""#include <iostream>
int main() { std::cout << "! 1" << std::endl; }
"""

STALL_CPP = r"""#include <unistd.h>
int main() { for (;;) pause(); }
"""


def tests_of(pairs, **extra):
    return [{"name": str(i + 1), "stdin": i_, "expected": e, **extra}
            for i, (i_, e) in enumerate(pairs)]


class Judge(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server({"pool_total": 0,
                             "pool_sizes": {"cpp": 4, "python": 3, "c": 1, "bash": 1},
                             "max_limits": {"cpu_ms": 20000}})

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        assert code == 0, f"sandpool serve exited {code}"

    def judge(self, body, status=200):
        code, answer, _ = self.server.request("POST", "/api/v1/judge", body)
        self.assertEqual(code, status, answer)
        return answer

    def verdicts(self, answer):
        return [t["verdict"] for t in answer["tests"]]

    def test_a_built_program_holds_what_it_takes(self):
        """A compiled judge request holds, for its compiled program, the
        most one could take (judge_max_program_kb, twice) while it
        compiles; once built, what it takes: the memory goes back to
        other requests, of its client too, while its tests run."""
        status, view, _ = self.server.request("POST", "/api/v1/jobs", {
            "language": "c", "mode": "judge",
            "code": "#include <unistd.h>\nint main(void) { sleep(3); return 0; }",
            "tests": tests_of([("", "")]), "limits": {"wall_ms": 10000}})
        self.assertEqual(status, 202, view)
        seen = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            running = self.server.request("GET", "/healthz")[1]["memory"]["by"]["running"]
            state = self.server.request("GET", f"/api/v1/jobs/{view['id']}")[1]["state"]
            if state == "done":
                break
            if state == "running":
                seen.append(running)
            time.sleep(0.05)
        self.assertTrue(seen, "the job was never seen running")
        # a C hello is some KiB; twice judge_max_program_kb is 128 MiB
        self.assertLess(seen[-1], 32 << 20, seen)
        status, job, _ = self.server.request("GET", f"/api/v1/jobs/{view['id']}")
        self.assertEqual(job["result"]["verdict"], "accepted", job)

    def echo(self, cases, checker):
        """Verdicts of the echo program on (output, expected) CASES."""
        answer = self.judge({"language": "python", "code": ECHO_PY, "checker": checker,
                             "tests": tests_of(cases)})
        self.assertEqual(answer["status"], "ok", answer)
        return self.verdicts(answer)

    def test_accepted_compiles_once_and_answers_in_full(self):
        answer = self.judge({"language": "cpp", "code": APLUSB_CPP, "userId": "u1",
                             "tests": tests_of([("1 2\n", "3\n"), ("-5 5", "0\n"),
                                                ("1000000000000 1", "1000000000001\n")])})
        self.assertEqual((answer["status"], answer["verdict"]), ("ok", "accepted"), answer)
        self.assertEqual(answer["compile"]["status"], "ok")
        self.assertEqual(self.verdicts(answer), ["accepted"] * 3)
        first = answer["tests"][0]
        self.assertEqual((first["name"], first["index"], first["stdout"], first["exit_code"]),
                         ("1", 0, "3\n", 0))
        for key in ("cpu_ms", "wall_ms", "memory_kb", "signal", "stderr", "message"):
            self.assertIn(key, first)
        s = answer["summary"]
        self.assertEqual((s["verdict"], s["tests"], s["passed"], s["failed"], s["skipped"],
                          s["first_failure"], s["counts"]),
                         ("accepted", 3, 3, 0, 0, None, {"accepted": 3}))
        self.assertGreater(s["max_memory_kb"], 0)
        metrics = urllib.request.urlopen(self.server.url + "/metrics", timeout=30).read().decode()
        counted = re.search(r'^sandpool_judge_tests_total\{language="cpp",verdict="accepted"\} '
                            r'(\d+)$', metrics, re.M)
        self.assertIsNotNone(counted, metrics)
        self.assertGreaterEqual(int(counted.group(1)), 3)

    def test_args_and_a_java_class_of_any_name_compiled_once(self):
        # every test's run gets the request's args; the class is not Main
        java = ("import java.util.Scanner;\npublic class Adder {\n"
                "  public static void main(String[] args) {\n"
                "    Scanner in = new Scanner(System.in);\n"
                "    long a = in.nextLong(), b = in.nextLong();\n"
                "    System.out.println(args[0] + \" \" + (a + b) + \" \" + args.length);\n"
                "  }\n}\n")
        answer = self.judge({"language": "java", "code": java, "args": ["sum=", "$(x)"],
                             "tests": tests_of([("1 2", "sum= 3 2\n"), ("5 5", "sum= 10 2\n")])})
        self.assertEqual((answer["status"], answer["verdict"]), ("ok", "accepted"),
                         json.dumps(answer)[:3000])
        self.assertEqual(answer["compile"]["status"], "ok")

    def test_wrong_answer_and_presentation_error(self):
        answer = self.judge({"language": "cpp", "code": APLUSB_CPP,
                             "tests": tests_of([("1 2", "3\n"), ("2 2", "5\n"),
                                                ("3 3", "6 \n")])})
        self.assertEqual(self.verdicts(answer),
                         ["accepted", "wrong_answer", "presentation_error"])
        self.assertEqual((answer["verdict"], answer["summary"]["first_failure"]),
                         ("wrong_answer", "2"))
        self.assertIn("differ", answer["tests"][1]["message"])
        self.assertEqual(answer["summary"]["counts"],
                         {"accepted": 1, "wrong_answer": 1, "presentation_error": 1})

    def test_compile_error_skips_every_test(self):
        answer = self.judge({"language": "cpp", "code": "int main( {",
                             "tests": tests_of([("", ""), ("", "")])})
        self.assertEqual((answer["status"], answer["verdict"]),
                         ("compile_error", "compile_error"))
        self.assertIn("error", answer["compile"]["stderr"])
        self.assertEqual(self.verdicts(answer), ["skipped", "skipped"])

    def test_each_limit_per_test(self):
        code = r"""#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
	char what[16] = "";
	scanf("%15s", what);
	if (!strcmp(what, "spin")) for (volatile unsigned long i = 0;; i++) ;
	if (!strcmp(what, "eat")) for (;;) { char *p = malloc(1 << 20); if (!p) abort(); memset(p, 1, 1 << 20); }
	if (!strcmp(what, "talk")) for (;;) fputs("talk talk talk talk talk\n", stdout);
	if (!strcmp(what, "crash")) { volatile int *p = NULL; return *p; }
	if (!strcmp(what, "fail")) return 3;
	puts("fine");
	return 0;
}
"""
        answer = self.judge({
            "language": "c", "code": code,
            "limits": {"cpu_ms": 1000, "wall_ms": 3000, "memory_kb": 65536,
                       "output_kb": 64},
            "tests": tests_of([("spin", ""), ("eat", ""), ("talk", ""), ("crash", ""),
                               ("fail", ""), ("ok", "fine\n")])})
        # without a memory cgroup (rootless here) the limit is an address space
        # rlimit: malloc fails and the program aborts
        _, health, _ = self.server.request("GET", "/healthz")
        memory = ("memory_limit" if health["limits"]["memory_by_cgroup"] else "runtime_error")
        self.assertEqual(self.verdicts(answer),
                         ["time_limit", memory, "output_limit", "runtime_error",
                          "runtime_error", "accepted"], answer)
        crash, fail = answer["tests"][3], answer["tests"][4]
        self.assertEqual((crash["signal"], fail["exit_code"]), (11, 3))
        self.assertLessEqual(len(answer["tests"][2]["stdout"]), 1024)
        self.assertTrue(answer["tests"][2]["output_cut"])

    def test_limits_per_test_override_the_request(self):
        spin = "import sys\nn = int(sys.stdin.read())\nx = 0\nfor i in range(n): x += i\nprint('done')\n"
        tests = tests_of([("3000000", "done\n"), ("3000000", "done\n")])
        tests[1]["limits"] = {"cpu_ms": 50}
        answer = self.judge({"language": "python", "code": spin, "tests": tests,
                             "limits": {"cpu_ms": 10000, "wall_ms": 20000}})
        self.assertEqual(self.verdicts(answer), ["accepted", "time_limit"], answer)

    def test_stop_on_first_failure(self):
        cases = [("1 1", "2\n")] + [("1 1", "3\n")] + [("1 1", "2\n")] * 10
        add = "a, b = map(int, input().split())\nprint(a + b)\n"
        # python has three cells here: one test at a time (half of them,
        # rounded down), so every test after the failing one is skipped
        answer = self.judge({"language": "python", "code": add, "tests": tests_of(cases),
                             "stop_on_first_failure": True})
        v = self.verdicts(answer)
        self.assertEqual(v, ["accepted", "wrong_answer"] + ["skipped"] * 10, answer)
        self.assertEqual((answer["verdict"], answer["summary"]["first_failure"],
                          answer["summary"]["skipped"], answer["summary"]["failed"]),
                         ("wrong_answer", "2", 10, 1))
        # two at once (cpp's four cells): the tests started before the failure
        # was known run to their end, the rest are skipped, in test order
        answer = self.judge({"language": "cpp", "code": APLUSB_CPP, "tests": tests_of(cases),
                             "stop_on_first_failure": True})
        v = self.verdicts(answer)
        self.assertEqual(v[:2], ["accepted", "wrong_answer"], answer)
        ran = [x for x in v[2:] if x != "skipped"]
        self.assertEqual(v[2:], ran + ["skipped"] * (10 - len(ran)), v)
        self.assertEqual(set(ran) - {"accepted"}, set(), v)
        answer = self.judge({"language": "cpp", "code": APLUSB_CPP, "tests": tests_of(cases)})
        self.assertEqual(self.verdicts(answer).count("skipped"), 0)

    def test_exact_checker(self):
        self.assertEqual(self.echo([("3\n", "3\n"), ("3", "3\n"), ("3\r\n", "3\n"),
                                    ("1  2\n", "1 2\n"), ("4\n", "3\n"), ("", "")],
                                   {"type": "exact"}),
                         ["accepted", "presentation_error", "presentation_error",
                          "presentation_error", "wrong_answer", "accepted"])

    def test_lines_checker(self):
        self.assertEqual(self.echo([("1 2\n3", "1 2\n3\n"), ("1 2\r\n3\r\n", "1 2\n3\n"),
                                    ("1 2   \n3\t\n\n\n", "1 2\n3\n"), ("1  2\n3\n", "1 2\n3\n"),
                                    ("1 2 3\n", "1 2\n3\n"), ("1 2\n4\n", "1 2\n3\n"),
                                    ("", "1\n")],
                                   {"type": "lines"}),
                         ["accepted", "accepted", "accepted", "presentation_error",
                          "presentation_error", "wrong_answer", "wrong_answer"])

    def test_tokens_checker(self):
        self.assertEqual(self.echo([("1\n2   3", "1 2 3\n"), ("\r\n1\t2\r\n3\r\n", "1 2 3"),
                                    ("1 2", "1 2 3"), ("1 2 3 4", "1 2 3"), ("1.0", "1")],
                                   {"type": "tokens"}),
                         ["accepted", "accepted", "wrong_answer", "wrong_answer",
                          "wrong_answer"])

    def test_float_checker(self):
        cases = [("-0.0\n", "0.0\n"), ("1.0000001\n", "1\n"), ("1.00001\n", "1\n"),
                 ("1000000000.5\n", "1000000000\n"), ("nan\n", "nan\n"), ("nan\n", "0\n"),
                 ("0\n", "nan\n"), ("inf -inf\n", "inf -inf\n"), ("yes 2.0\n", "yes 2\n"),
                 ("no 2.0\n", "yes 2\n"), ("1e-7\n", "0\n")]
        self.assertEqual(self.echo(cases, {"type": "float", "epsilon": 1e-6}),
                         ["accepted", "accepted", "wrong_answer", "accepted", "accepted",
                          "wrong_answer", "wrong_answer", "accepted", "accepted",
                          "wrong_answer", "accepted"])
        self.assertEqual(self.echo([("1.00001\n", "1\n")], {"type": "float", "epsilon": 1e-4}),
                         ["accepted"])

    def test_binary_data_by_base64(self):
        xor = ("import sys\nd = sys.stdin.buffer.read()\n"
               "sys.stdout.buffer.write(bytes(b ^ 0xff for b in d))\n")
        data = bytes(range(256)) * 4
        b64 = lambda b: base64.b64encode(b).decode()
        answer = self.judge({"language": "python", "code": xor, "tests": [
            {"stdin_base64": b64(data), "expected_base64": b64(bytes(b ^ 0xff for b in data))},
            {"stdin_base64": b64(b"\x00\x01"), "expected_base64": b64(b"\xff\xff")}]})
        self.assertEqual(self.verdicts(answer), ["accepted", "wrong_answer"], answer)
        self.assertEqual(answer["tests"][0]["stdout_encoding"], "base64")
        self.assertEqual(base64.b64decode(answer["tests"][0]["stdout"]),
                         bytes(b ^ 0xff for b in data)[:1024])

    def test_checker_programs_in_cpp_and_python_and_their_cache(self):
        body = {"language": "python", "code": "a, b = map(int, input().split())\nprint(a + b)",
                "checker": {"language": "cpp", "code": SUM_CHECKER_CPP},
                "tests": [{"stdin": "1 2", "expected": "3"}, {"stdin": "2 2", "expected": "4"}]}
        answer = self.judge(body)
        self.assertEqual(self.verdicts(answer), ["accepted", "accepted"], answer)
        self.assertEqual(answer["tests"][0]["message"], "ok 3")
        self.assertEqual(answer["checker"]["cached"], False)
        self.assertEqual(answer["checker"]["compile"]["status"], "ok")
        body["code"] = "a, b = map(int, input().split())\nprint(a * b)"
        answer = self.judge(body)
        self.assertEqual(answer["checker"], {"language": "cpp", "cached": True,
                                             "compile": None})
        self.assertEqual(self.verdicts(answer), ["wrong_answer", "accepted"])
        self.assertEqual(answer["tests"][0]["message"], "expected 3, found 2")
        # a checker of several files, its own header among them
        header = SUM_CHECKER_CPP.replace("#include <fstream>", '#include "io.h"')
        body["checker"] = {"language": "cpp", "files": [
            {"name": "check.cpp", "content": header},
            {"name": "io.h", "content": "#include <fstream>\n"}]}
        self.assertEqual(self.verdicts(self.judge(body)), ["wrong_answer", "accepted"])
        body["code"] = "print('no number')"
        self.assertEqual(self.verdicts(self.judge(body)),
                         ["presentation_error", "presentation_error"])
        answer = self.judge({"language": "bash", "code": "tr ' ' '\\n' | sort -r",
                             "checker": {"language": "python", "code": ANAGRAM_CHECKER_PY},
                             "tests": [{"stdin": "a b c", "expected": "c a b"},
                                       {"stdin": "a b", "expected": "a b c"}]})
        self.assertEqual(self.verdicts(answer), ["accepted", "wrong_answer"], answer)
        self.assertIn("words differ", answer["tests"][1]["message"])

    def test_a_checker_that_fails_is_a_checker_error(self):
        for code in ("int main() { volatile int *p = 0; return *p; }",
                     "#include <cstdio>\nint main() { fputs(\"no judgement\", stderr); return 3; }",
                     "int main() { for (;;) ; }"):
            with self.subTest(code=code):
                answer = self.judge({"language": "python", "code": "print(1)",
                                     "checker": {"language": "cpp", "code": code,
                                                 "limits": {"cpu_ms": 300, "wall_ms": 1000}},
                                     "tests": [{"stdin": "", "expected": "1"}]})
                test = answer["tests"][0]
                self.assertEqual((test["verdict"], test["status"], test["exit_code"]),
                                 ("checker_error", "ok", 0), answer)
                self.assertEqual(answer["verdict"], "checker_error")
        answer = self.judge({"language": "python", "code": "print(1)",
                             "checker": {"language": "cpp", "code": "int main( {"},
                             "tests": [{"stdin": "", "expected": "1"}]})
        self.assertEqual((answer["verdict"], answer["checker"]["compile"]["status"]),
                         ("checker_error", "compile_error"), answer)
        self.assertEqual(self.verdicts(answer), ["checker_error"])
        # each test says why, with the compiler's first word on it
        message = answer["tests"][0]["message"]
        self.assertTrue(message.startswith("the checker did not compile (compile_error): "),
                        answer)
        self.assertIn("error", message[45:], answer)
        answer = self.judge({"language": "python", "code": "print(1)",
                             "interactor": {"language": "c", "code": "int main( {"},
                             "tests": [{"stdin": ""}, {"stdin": ""}]})
        for test in answer["tests"]:
            self.assertEqual(test["verdict"], "checker_error", answer)
            self.assertTrue(test["message"].startswith("the interactor did not compile"),
                            answer)

    def test_interactor_guessing_game(self):
        def body(code, **limits):
            return {"language": "cpp", "code": code,
                    "interactor": {"language": "python", "code": GUESS_INTERACTOR_PY},
                    "limits": {"cpu_ms": 1000, "wall_ms": 2000, **limits},
                    "tests": [{"stdin": "1"}, {"stdin": "777777"}, {"stdin": "1000000"},
                              {"stdin": "500000"}]}
        answer = self.judge(body(GUESS_CPP))
        self.assertEqual(self.verdicts(answer), ["accepted"] * 4, answer)
        self.assertRegex(answer["tests"][1]["message"], r"^found 777777 in \d+ questions$")
        self.assertEqual(answer["tests"][1]["interactor"]["exit_code"], 0)
        self.assertEqual(answer["interactor"]["language"], "python")
        answer = self.judge(body(CHEAT_CPP))
        self.assertEqual(self.verdicts(answer),
                         ["accepted", "wrong_answer", "wrong_answer", "wrong_answer"], answer)
        self.assertIn("the number was 777777", answer["tests"][1]["message"])
        started = time.monotonic()
        answer = self.judge(body(STALL_CPP, wall_ms=1500))
        took = time.monotonic() - started
        self.assertEqual(self.verdicts(answer), ["time_limit"] * 4, answer)
        for t in answer["tests"]:
            self.assertGreaterEqual(t["wall_ms"], 1500)
            self.assertLess(t["wall_ms"], 1500 + 1000)
        # four stalls, two at a time: no deadlock held any longer than its limit
        self.assertLess(took, 4 * (1.5 + 2) + 10)

    def test_two_hundred_tests(self):
        tests = [{"stdin": f"{i} {i * 3}", "expected": f"{i * 4}\n"} for i in range(200)]
        tests[150]["expected"] = "0\n"
        answer = self.judge({"language": "cpp", "code": APLUSB_CPP, "tests": tests})
        v = self.verdicts(answer)
        self.assertEqual((v.count("accepted"), v[150], answer["summary"]["first_failure"]),
                         (199, "wrong_answer", "151"))
        self.assertEqual([t["index"] for t in answer["tests"]], list(range(200)))

    def test_reset_between_tests(self):
        code = ("import os\nfor p in ('/tmp/mark', '/box/mark', '/dev/shm/mark'):\n"
                "    if os.path.exists(p): print('dirty', p)\n    open(p, 'w').write('x')\n"
                "print('clean')\n")
        answer = self.judge({"language": "python", "code": code,
                             "tests": [{"stdin": "", "expected": "clean\n"}] * 12})
        self.assertEqual(self.verdicts(answer), ["accepted"] * 12, answer)

    def test_programs_see_only_their_own_files(self):
        """The submission's box holds its program alone (the compiled one for
        C++); the checker runs in a sandbox of its own, which holds the
        checker and the test, and nothing the submission left."""
        lister = r"""#include <dirent.h>
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>
int main() {
	std::vector<std::string> names;
	DIR *d = opendir("/box");
	for (dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.') names.push_back(e->d_name);
	std::sort(names.begin(), names.end());
	for (auto &n : names) printf("%s ", n.c_str());
	fclose(fopen("/box/planted", "w"));
	fclose(fopen("/tmp/planted", "w"));
	puts("");
}
"""
        checker = ("import os, sys\n"
                   "print('box', sorted(os.listdir('/box')), 'judge',"
                   " sorted(os.listdir('/box/judge')), 'planted',"
                   " os.path.exists('/tmp/planted'), file=sys.stderr)\n")
        answer = self.judge({"language": "cpp", "code": lister,
                             "checker": {"language": "python", "code": checker},
                             "tests": [{"stdin": ""}, {"stdin": ""}]})
        for t in answer["tests"]:
            self.assertEqual(t["stdout"], "main main.cpp \n", answer)
            self.assertEqual(t["message"], "box ['judge', 'main.py'] judge ['answer', 'input',"
                                           " 'output'] planted False\n")

    def test_jobs_and_websocket_judge(self):
        body = {"mode": "judge", "language": "cpp", "code": APLUSB_CPP,
                "tests": tests_of([("1 2", "3\n"), ("2 2", "5\n")])}
        code, job, _ = self.server.request("POST", "/api/v1/jobs", body)
        self.assertEqual(code, 202, job)
        status, done = wait_state(self.server, job["id"], ("done",))
        self.assertEqual((status, done["state"]), (200, "done"), done)
        self.assertEqual(self.verdicts(done["result"]), ["accepted", "wrong_answer"])

        async def go():
            url = self.server.url.replace("http://", "ws://") + "/api/v1/ws"
            async with websockets.connect(url, max_size=1 << 24) as ws:
                msg = dict(body, type="judge", ref="j1")
                del msg["mode"]
                await ws.send(json.dumps(msg))
                events = []
                while not events or events[-1]["type"] != "result":
                    events.append(json.loads(await asyncio.wait_for(ws.recv(), 120)))
                return events
        events = asyncio.run(go())
        kinds = [e["type"] for e in events]
        self.assertEqual((kinds[0], kinds[-1]), ("queued", "result"), kinds)
        tests = sorted((e for e in events if e["type"] == "test"), key=lambda e: e["index"])
        self.assertEqual([(t["name"], t["verdict"]) for t in tests],
                         [("1", "accepted"), ("2", "wrong_answer")])
        stages = [e["stage"] for e in events if e["type"] == "started"]
        self.assertEqual(stages, ["compile", "tests"])
        self.assertEqual(events[-1]["result"]["verdict"], "wrong_answer")

    def test_bad_requests(self):
        base = {"language": "python", "code": "print(1)"}
        one = [{"stdin": "", "expected": "1\n"}]
        cases = [
            ({}, "tests is required"),
            ({"tests": []}, "tests must not be empty"),
            ({"tests": "x"}, "tests must be an array"),
            ({"tests": [{"stdin": "", "expected": "1"}] * 10000}, "judge_max_tests"),
            ({"tests": [{"expected": "1"}]}, "tests[0].stdin is required"),
            ({"tests": [{"stdin": ""}]}, "tests[0].expected is required"),
            ({"tests": [1]}, "tests[0] must be an object"),
            ({"tests": [{"stdin": 1, "expected": ""}]}, "tests[0].stdin must be a string"),
            ({"tests": [{"stdin": "", "stdin_base64": "", "expected": ""}]}, "not both"),
            ({"tests": [{"stdin_base64": "!!", "expected": ""}]}, "not valid base64"),
            ({"tests": [{"stdin": "", "expected": "", "name": ""}]}, "tests[0].name"),
            ({"tests": [{"stdin": "", "expected": "", "limits": {"cpu_ms": -1}}]},
             "tests[0].limits"),
            ({"tests": one, "checker": {"type": "fuzzy"}}, "checker.type"),
            ({"tests": one, "checker": {"type": "exact", "epsilon": 0.1}}, "float checker only"),
            ({"tests": one, "checker": {"type": "float", "epsilon": -1}}, "epsilon"),
            ({"tests": one, "checker": {"language": "cpp"}}, "checker: code or files"),
            ({"tests": one, "checker": {"type": "exact", "language": "cpp", "code": ""}},
             "not both"),
            ({"tests": one, "checker": {"type": "tokens"},
              "interactor": {"language": "cpp", "code": ""}}, "after an interactor"),
            ({"tests": one, "stdin": "1"}, "tests[].stdin"),
            ({"tests": one, "stop_on_first_failure": "yes"}, "stop_on_first_failure"),
            ({"tests": one, "mode": "run"}, "mode must be \"judge\""),
        ]
        for extra, words in cases:
            with self.subTest(extra=str(extra)[:80]):
                code, answer, _ = self.server.request("POST", "/api/v1/judge",
                                                      {**base, **extra})
                self.assertEqual(code, 400, answer)
                self.assertIn(words, answer["error"]["message"])
        code, answer, _ = self.server.request(
            "POST", "/api/v1/judge", {**base, "tests": one,
                                      "checker": {"language": "no-such-language", "code": ""}})
        self.assertEqual((code, answer["error"]["code"]), (400, "unknown_language"))
        self.assertIn("checker: ", answer["error"]["message"])
        code, answer, _ = self.server.request("GET", "/api/v1/judge")
        self.assertEqual(code, 405)
        # and the server still judges
        self.assertEqual(self.verdicts(self.judge({**base, "tests": one})), ["accepted"])


# The guessing game's interactor in C, for a language that has few cells.
GUESS_INTERACTOR_C = r"""#include <stdio.h>
int main(int argc, char **argv) {
	long secret, value;
	char kind;
	FILE *in = fopen(argv[1], "r");
	if (argc < 3 || !in || fscanf(in, "%ld", &secret) != 1) return 3;
	for (int asked = 0; asked < 26; asked++) {
		if (scanf(" %c %ld", &kind, &value) != 2) return 2;
		if (kind == '!') return value == secret ? 0 : 1;
		printf("%s\n", secret < value ? "<" : secret > value ? ">" : "=");
		fflush(stdout);
	}
	return 1;
}
"""


# The Polygon model, as testlib's interactor-a-plus-b does it: the
# interactor only passes the test to the program and copies its answer into
# its output file; a checker then judges that file against the answer.
APLUSB_INTERACTOR_C = r"""#include <stdio.h>
int main(int argc, char **argv) {
	long long a, b, got;
	FILE *in = fopen(argv[1], "r"), *log = fopen(argv[2], "w");
	if (argc < 3 || !in || !log || fscanf(in, "%lld %lld", &a, &b) != 2) return 3;
	printf("%lld %lld\n", a, b);
	fflush(stdout);
	if (scanf("%lld", &got) != 1) { fputs("no answer", stderr); return 1; }
	fprintf(log, "%lld\n", got);
	return 0;
}
"""

APLUSB_CHECKER_C = r"""#include <stdio.h>
int main(int argc, char **argv) {
	long long got, want;
	FILE *out = fopen(argv[2], "r"), *ans = fopen(argv[3], "r");
	if (argc != 4 || !out || !ans || fscanf(ans, "%lld", &want) != 1) return 3;
	if (fscanf(out, "%lld", &got) != 1) { fputs("the log holds no number", stderr); return 2; }
	if (got != want) { fprintf(stderr, "expected %lld, found %lld", want, got); return 1; }
	fprintf(stderr, "ok %lld", got);
	return 0;
}
"""

GUESS_C = r"""#include <stdio.h>
int main(void) {
	long lo = 1, hi = 1000000;
	char r[8];
	while (lo < hi) {
		long mid = (lo + hi) / 2;
		printf("? %ld\n", mid);
		fflush(stdout);
		if (scanf("%7s", r) != 1) return 1;
		if (r[0] == '=') { lo = hi = mid; break; }
		if (r[0] == '<') hi = mid - 1; else lo = mid + 1;
	}
	printf("! %ld\n", lo);
	return 0;
}
"""

APLUSB_C = r"""#include <stdio.h>
int main(void) { long long a, b; scanf("%lld %lld", &a, &b); printf("%lld\n", a + b); }
"""


class JudgeSmallPools(unittest.TestCase):
    """A language of one cell: a C submission with a C interactor and a C
    checker needs three cells per test, and must never wait for the one it
    holds itself."""

    def test_interactor_then_checker_on_a_language_of_one_cell(self):
        server = Server({"pool_total": 0, "pool_sizes": {"c": 1, "python": 1}})
        try:
            def body(code, **extra):
                return {"language": "c", "code": code,
                        "interactor": {"language": "c", "code": APLUSB_INTERACTOR_C},
                        "checker": {"language": "c", "code": APLUSB_CHECKER_C},
                        "tests": tests_of([("1 2", "3"), ("-7 7", "0"),
                                           ("1000000000000 5", "1000000000005")]),
                        **extra}
            code, answer, _ = server.request("POST", "/api/v1/judge", body(APLUSB_C))
            self.assertEqual(code, 200, answer)
            self.assertEqual([t["verdict"] for t in answer["tests"]], ["accepted"] * 3,
                             json.dumps(answer)[:3000])
            self.assertEqual(answer["tests"][2]["message"], "ok 1000000000005", answer)
            # the interactor copies a wrong answer faithfully: the checker says so
            wrong = APLUSB_C.replace("a + b", "a - b")
            code, answer, _ = server.request("POST", "/api/v1/judge", body(wrong))
            self.assertEqual([t["verdict"] for t in answer["tests"]],
                             ["wrong_answer", "wrong_answer", "wrong_answer"], answer)
            self.assertEqual(answer["tests"][0]["message"], "expected 3, found -1", answer)
            # the interactor's own word comes first: no answer at all
            code, answer, _ = server.request("POST", "/api/v1/judge",
                                             body("int main(void) { return 0; }"))
            self.assertEqual([t["verdict"] for t in answer["tests"]], ["wrong_answer"] * 3,
                             answer)
            self.assertEqual(answer["tests"][0]["message"], "no answer", answer)
            # a checker in python after a C interactor, and no cell waited for
            code, answer, _ = server.request("POST", "/api/v1/judge", dict(
                body(APLUSB_C), checker={"language": "python", "code": (
                    "import sys\n_, i, o, a = sys.argv\n"
                    "sys.exit(0 if open(o).read().split() == open(a).read().split() else 1)")}))
            self.assertEqual([t["verdict"] for t in answer["tests"]], ["accepted"] * 3, answer)
            status, health, _ = server.request("GET", "/healthz")
            self.assertEqual(status, 200, health)
        finally:
            self.assertEqual(server.stop(), 0)

    def test_an_interactor_in_the_language_of_its_only_cell(self):
        # the interactor gets a cell of its own while the test holds the
        # language's only one (it waited 30 s per test for it, then failed)
        server = Server({"pool_total": 0, "pool_sizes": {"c": 1}})
        try:
            code, answer, _ = server.request("POST", "/api/v1/judge", {
                "language": "c", "code": GUESS_C,
                "interactor": {"language": "c", "code": GUESS_INTERACTOR_C},
                "tests": [{"stdin": str(7 + 99991 * i)} for i in range(3)]})
            self.assertEqual(code, 200, answer)
            self.assertEqual([t["verdict"] for t in answer["tests"]], ["accepted"] * 3,
                             json.dumps(answer)[:3000])
        finally:
            self.assertEqual(server.stop(), 0)


class JudgePairs(unittest.TestCase):
    """Interactive tests need two cells at once: two requests that each
    hold one of a language's only two cells must not wait for each other."""

    def test_two_interactive_requests_on_two_cells(self):
        server = Server({"pool_total": 0, "pool_sizes": {"cpp": 2, "c": 0},
                         "judge_pool_percent": 100})
        try:
            body = {"language": "cpp", "code": GUESS_CPP,
                    "interactor": {"language": "cpp", "code": GUESS_INTERACTOR_C.replace(
                        "#include <stdio.h>", "#include <cstdio>")},
                    "limits": {"wall_ms": 5000},
                    "tests": [{"stdin": str(7 + 77777 * i)} for i in range(8)]}
            answers = [None, None]

            def judge(k):
                answers[k] = server.request("POST", "/api/v1/judge", body)
            threads = [threading.Thread(target=judge, args=(k,)) for k in range(2)]
            started = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join(100)
            took = time.monotonic() - started
            self.assertNotIn(None, answers, "a request did not end within 100 s: each "
                             "held a cell and waited for the other's")
            for code, answer, _ in answers:
                self.assertEqual(code, 200, answer)
                self.assertEqual([t["verdict"] for t in answer["tests"]], ["accepted"] * 8,
                                 answer)
            # a deadlock would hold until the 30 s lease wait gave up
            self.assertLess(took, 60)
        finally:
            self.assertEqual(server.stop(), 0)


class JudgeBounds(unittest.TestCase):
    def test_a_compiled_program_over_the_bound_is_the_compiles_fault(self):
        server = Server({"pool_total": 0, "pool_sizes": {"cpp": 1},
                         "judge_max_program_kb": 512})
        try:
            big = ("static char big[2 << 20] = {1};\n"
                   "int main(int argc, char **) { return big[argc * 4096]; }\n")
            code, answer, _ = server.request("POST", "/api/v1/judge", {
                "language": "cpp", "code": big, "tests": [{"stdin": "", "expected": ""}]})
            self.assertEqual(code, 200, answer)
            self.assertEqual((answer["status"], answer["verdict"], answer["compile"]["status"]),
                             ("output_limit", "compile_error", "output_limit"), answer)
            self.assertIn("too large to keep", answer["compile"]["error"])
            self.assertEqual(answer["tests"][0]["verdict"], "skipped")
            # the cell that refused serves the next request
            code, answer, _ = server.request("POST", "/api/v1/judge", {
                "language": "cpp", "code": APLUSB_CPP,
                "tests": [{"stdin": "2 3", "expected": "5\n"}]})
            self.assertEqual(answer["verdict"], "accepted", answer)
            _, health, _ = server.request("GET", "/healthz")
            self.assertEqual(health["pool"]["cpp"]["replaced"], 0, health)
        finally:
            self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    unittest.main()
