"""Problem packages through a real `sandpool serve`: POST, GET and DELETE
/api/v1/problems, judging with "problem": ID over HTTP, /jobs and the
WebSocket, the ICPC/Kattis format (legacy and 2023-07) and the plain one,
the default output validator with each flag, custom output validators,
interactive problems in both conventions, testlib's points, scoring groups,
time limits, and hostile archives.

Each verdict below is the one the format's specification gives for that
output (Kattis problem package format, "Default output validator
specification", "Output validators", "Graders"; testlib's exit codes).

Environment (set by tools/run-tests): as test_server.
"""

import asyncio
import gzip
import io
import json
import os
import shutil
import tarfile
import tempfile
import time
import unittest
import urllib.request
import zipfile

import websockets

from redisd import Redis
from test_server import Server

# ---- packages ------------------------------------------------------------------


def zip_of(files, top=""):
    """A zip of FILES ({name: text or bytes}), under the folder TOP."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(top + name, data)
    return buf.getvalue()


def tar_of(files, gz=True, top=""):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w") as t:
        for name, data in files.items():
            data = data.encode() if isinstance(data, str) else data
            info = tarfile.TarInfo(top + name)
            info.size = len(data)
            info.mode = 0o755 if name.endswith(".sh") else 0o644
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def sums(prefix, pairs):
    """Tests PREFIX/NAME.in and .ans of A+B: {name: (a, b)}."""
    files = {}
    for name, (a, b) in pairs.items():
        files[f"{prefix}/{name}.in"] = f"{a} {b}\n"
        files[f"{prefix}/{name}.ans"] = f"{a + b}\n"
    return files


APLUSB_PY = "a, b = map(int, input().split())\nprint(a + b)\n"

# Prints what the input's first line says to print: each test's input is
# the output it wants, so one program gives every output a test needs.
SAY_PY = "import sys\nsys.stdout.write(sys.stdin.read().split('\\n', 1)[1])\n"

# A Kattis output validator: validator input answer feedback_dir [flags] <
# output. Accepts the sum; writes judgemessage.txt; "strict" among its flags
# wants nothing after the number.
SUM_VALIDATOR_CPP = r"""#include <fstream>
#include <iostream>
#include <string>
int main(int argc, char **argv) {
	std::ifstream in(argv[1]), ans(argv[2]);
	std::ofstream msg(std::string(argv[3]) + "judgemessage.txt");
	bool strict = false;
	for (int i = 4; i < argc; i++) strict |= std::string(argv[i]) == "strict";
	long long a, b, got;
	in >> a >> b;
	if (!(std::cin >> got)) { msg << "no number"; return 43; }
	if (got != a + b) { msg << "expected " << a + b << " got " << got; return 43; }
	std::string more;
	if (strict && (std::cin >> more)) { msg << "trailing " << more; return 43; }
	msg << "flags " << argc - 4;
	return 42;
}
"""

# An output validator that gives the score the output asks for (score.txt).
SCORE_VALIDATOR_PY = r"""import sys
_, inp, ans, feedback = sys.argv[:4]
words = sys.stdin.read().split()
if not words or words[0] != "score":
    open(feedback + "judgemessage.txt", "w").write("no score")
    sys.exit(43)
open(feedback + "score.txt", "w").write(words[1] + "\n")
sys.exit(42)
"""

# Kattis interactive: the validator is the interactor. Guess a number in
# 1..100 with at most 7 questions: "? x" gets "<", ">" or "=", "! x" answers.
GUESS_VALIDATOR_PY = r"""import sys
secret = int(open(sys.argv[1]).read())
feedback = sys.argv[3]
def fail(why):
    open(feedback + "judgemessage.txt", "w").write(why)
    sys.exit(43)
for asked in range(8):
    line = sys.stdin.readline()
    if not line:
        fail("the program said nothing more")
    kind, value = line.split()
    value = int(value)
    if kind == "!":
        if value != secret:
            fail(f"answered {value}, the number was {secret}")
        open(feedback + "judgemessage.txt", "w").write(f"found in {asked}")
        sys.exit(42)
    print("<" if secret < value else ">" if secret > value else "=", flush=True)
fail("more than 7 questions")
"""

GUESS_PY = r"""lo, hi = 1, 100
while lo < hi:
    mid = (lo + hi) // 2
    print("?", mid, flush=True)
    r = input()
    if r == "=":
        lo = hi = mid
    elif r == "<":
        hi = mid - 1
    else:
        lo = mid + 1
print("!", lo, flush=True)
"""

CHEAT_GUESS_PY = 'print("! 1", flush=True)\n'

# Polygon's A+B interactor, as testlib's interactor-a-plus-b does it: it
# gives the program the numbers, copies its answer to the output file, and
# leaves judging it to the checker (exit 0 whatever the answer).
APLUSB_INTERACTOR_CPP = r"""#include <fstream>
#include <iostream>
int main(int argc, char **argv) {
	std::ifstream in(argv[1]);
	std::ofstream out(argv[2]);
	long long a, b, got;
	in >> a >> b;
	std::cout << a << " " << b << std::endl;
	if (!(std::cin >> got)) { std::cerr << "no answer"; return 1; }
	out << got << "\n";
	return 0;
}
"""

# A testlib-convention checker: checker input output answer.
APLUSB_CHECKER_CPP = r"""#include <fstream>
#include <iostream>
int main(int argc, char **argv) {
	std::ifstream in(argv[1]), out(argv[2]), ans(argv[3]);
	long long want, got;
	ans >> want;
	if (!(out >> got)) { std::cerr << "wrong output format no number"; return 2; }
	if (got != want) { std::cerr << "wrong answer expected " << want << ", found " << got; return 1; }
	std::cerr << "ok " << got;
	return 0;
}
"""

# testlib's quitp: exit 7, "points X message" on stderr. Gives as many points
# as the output's number, or partially correct (N) when the output says pc N.
POINTS_CHECKER_PY = r"""import sys
words = open(sys.argv[2]).read().split()
if words[0] == "pc":
    sys.stderr.write(f"partially correct ({words[1]}) some")
    sys.exit(50 + int(words[1]))
sys.stderr.write(f"points {words[0]} for trying")
sys.exit(7)
"""


def kattis(tests, yaml="", testdata=None, extra=None):
    files = {"problem.yaml": yaml, **tests}
    for folder, text in (testdata or {}).items():
        files[f"{folder}/testdata.yaml"] = text
    files.update(extra or {})
    return files


def outputs(prefix, wanted):
    """Tests whose input names the output SAY_PY prints: {name: (output,
    answer)}."""
    files = {}
    for name, (out, ans) in wanted.items():
        files[f"{prefix}/{name}.in"] = "say\n" + out
        files[f"{prefix}/{name}.ans"] = ans
    return files


def problems_dir():
    """A store of problems of the test's own, writable by the servers'
    user whoever runs them (the state directory's may be root's)."""
    path = tempfile.mkdtemp(prefix="sandpool-problems-")
    os.chmod(path, 0o755)
    return path


class Problems(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = problems_dir()
        cls.server = Server({"pool_total": 0,
                             "pool_sizes": {"cpp": 2, "python": 3},
                             "judge_time_multipliers": {"python": 2},
                             "problem_max_mb": 2, "problem_max_files": 200,
                             "problems_dir": f"{cls.dir}/store"})

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)
        assert code == 0, f"sandpool serve exited {code}"

    # -- helpers --

    def post(self, data):
        return self.server.request("POST", "/api/v1/problems", raw=data,
                                   headers={"Content-Type": "application/zip"})

    def upload(self, data, status=201):
        """DATA stored, new (201): one a run before left in the state
        directory is removed and stored again. Removed after the test."""
        code, answer, _ = self.post(data)
        if status == 201 and code == 200:
            self.server.request("DELETE", f"/api/v1/problems/{answer['id']}")
            code, answer, _ = self.post(data)
        self.assertEqual(code, status, answer)
        if code in (200, 201):
            self.addCleanup(self.server.request, "DELETE", f"/api/v1/problems/{answer['id']}")
        return answer

    def judge(self, problem, code, language="python", status=200, **extra):
        code_, answer, _ = self.server.request("POST", "/api/v1/judge", {
            "language": language, "code": code, "problem": problem, **extra})
        self.assertEqual(code_, status, answer)
        return answer

    def verdicts(self, answer):
        return {t["name"]: t["verdict"] for t in answer["tests"]}

    # -- storing --

    def test_upload_list_show_remove(self):
        files = kattis(sums("data/secret", {"1": (1, 2), "2": (5, 7)}),
                       "name: Store me\n", extra=sums("data/sample", {"1": (0, 0)}))
        up = self.upload(zip_of(files, "storeme/"))
        self.assertRegex(up["id"], "^[0-9a-f]{32}$")
        self.assertEqual((up["format"], up["format_version"], up["name"], up["type"]),
                         ("kattis", "legacy", "Store me", "pass-fail"))
        self.assertEqual(up["tests"], 3)
        self.assertEqual([g["name"] for g in up["groups"]],
                         ["data", "data/sample", "data/secret"])
        self.assertEqual(up["judged_by"]["checking"], "default_validator")
        # the same files in another archive: the same problem, stored once
        again = self.upload(tar_of(files), 200)
        self.assertEqual(again["id"], up["id"])
        code, listed, _ = self.server.request("GET", "/api/v1/problems")
        self.assertEqual(code, 200)
        self.assertIn(up["id"], [p["id"] for p in listed["problems"]])
        code, shown, _ = self.server.request("GET", f"/api/v1/problems/{up['id']}")
        self.assertEqual((code, shown["tests"]), (200, 3))
        answer = self.judge(up["id"], APLUSB_PY)
        self.assertEqual(answer["verdict"], "accepted", answer)
        self.assertEqual(answer["problem"]["id"], up["id"])
        code, gone, _ = self.server.request("DELETE", f"/api/v1/problems/{up['id']}")
        self.assertEqual((code, gone["deleted"]), (200, True))
        code, _, _ = self.server.request("GET", f"/api/v1/problems/{up['id']}")
        self.assertEqual(code, 404)
        code, _, _ = self.server.request("DELETE", f"/api/v1/problems/{up['id']}")
        self.assertEqual(code, 404)
        answer = self.judge(up["id"], APLUSB_PY, status=404)
        self.assertEqual(answer["error"]["code"], "unknown_problem")

    def test_unknown_problem_and_mixed_requests(self):
        answer = self.judge("0" * 32, APLUSB_PY, status=404)
        self.assertEqual(answer["error"]["code"], "unknown_problem")
        answer = self.judge("not-an-id", APLUSB_PY, status=404)
        self.assertEqual(answer["error"]["code"], "unknown_problem")
        answer = self.judge("0" * 32, APLUSB_PY, status=400,
                            tests=[{"stdin": "", "expected": ""}])
        self.assertIn("tests", answer["error"]["message"])
        code, _, _ = self.server.request("GET", "/api/v1/problems/zz")
        self.assertEqual(code, 404)
        code, _, _ = self.server.request("PUT", "/api/v1/problems", {})
        self.assertEqual(code, 405)

    # -- the default output validator --

    def test_default_validator_flags(self):
        """One group per flag (output_validator_flags in its testdata.yaml),
        on_reject continue: every test judged, each verdict the spec's."""
        tests = {}
        tests.update(outputs("data/secret/a_default", {
            "case": ("HELLO  world\n", "hello world\n"),        # case-insensitive
            "space": ("1\n\n 2\t3\n", "1 2 3\n"),              # any whitespace
            "short": ("1 2\n", "1 2 3\n"),                     # output ends early
            "long": ("1 2 3 4\n", "1 2 3\n"),                  # more output
            "float": ("0.1000001\n", "0.1\n"),                 # no tolerance
        }))
        tests.update(outputs("data/secret/b_case", {
            "case": ("HELLO\n", "hello\n"),
            "same": ("hello\n", "hello\n"),
        }))
        tests.update(outputs("data/secret/c_space", {
            "same": ("1 2\n3\n", "1 2\n3\n"),
            "double": ("1  2\n3\n", "1 2\n3\n"),
            "newline": ("1 2 3\n", "1 2\n3\n"),
            "trailing": ("1 2\n3\n\n", "1 2\n3\n"),
        }))
        tests.update(outputs("data/secret/d_abs", {
            "in": ("1.0001\n", "1\n"),
            "out": ("1.01\n", "1\n"),
            "sci": ("1e0\n", "1\n"),
            "word": ("one\n", "1\n"),
            "text": ("abc\n", "abc\n"),       # not a number: compared as text
        }))
        tests.update(outputs("data/secret/e_rel", {
            "in": ("1000.5\n", "1000\n"),
            "out": ("1002\n", "1000\n"),
            "zero": ("0.000001\n", "0\n"),    # relative to 0: only 0
        }))
        tests.update(outputs("data/secret/f_both", {
            "abs": ("0.0005\n", "0\n"),       # within the absolute
            "rel": ("1000.5\n", "1000\n"),    # within the relative
            "none": ("2\n", "1\n"),
        }))
        files = kattis(tests, testdata={
            "data": "on_reject: continue\n",
            "data/secret/b_case": "output_validator_flags: case_sensitive\n",
            "data/secret/c_space": "output_validator_flags: space_change_sensitive\n",
            "data/secret/d_abs": "output_validator_flags: float_absolute_tolerance 0.001\n",
            "data/secret/e_rel": "output_validator_flags: float_relative_tolerance 0.001\n",
            "data/secret/f_both": "output_validator_flags: float_tolerance 0.001\n"})
        up = self.upload(zip_of(files))
        v = self.verdicts(self.judge(up["id"], SAY_PY))
        want = {
            "secret/a_default/case": "accepted", "secret/a_default/space": "accepted",
            "secret/a_default/short": "wrong_answer", "secret/a_default/long": "wrong_answer",
            "secret/a_default/float": "wrong_answer",
            "secret/b_case/case": "wrong_answer", "secret/b_case/same": "accepted",
            "secret/c_space/same": "accepted", "secret/c_space/double": "wrong_answer",
            "secret/c_space/newline": "wrong_answer", "secret/c_space/trailing": "wrong_answer",
            "secret/d_abs/in": "accepted", "secret/d_abs/out": "wrong_answer",
            "secret/d_abs/sci": "accepted", "secret/d_abs/word": "wrong_answer",
            "secret/d_abs/text": "accepted",
            "secret/e_rel/in": "accepted", "secret/e_rel/out": "wrong_answer",
            "secret/e_rel/zero": "wrong_answer",
            "secret/f_both/abs": "accepted", "secret/f_both/rel": "accepted",
            "secret/f_both/none": "wrong_answer"}
        self.assertEqual(v, want)

    def test_bad_default_validator_flags(self):
        files = kattis(sums("data/secret", {"1": (1, 2)}), "validator_flags: sideways\n")
        answer = self.upload(zip_of(files), 400)
        self.assertIn("sideways", answer["error"]["message"])

    def test_tests_right_in_data(self):
        """Tests directly in data/ are the root group's, named from data/."""
        files = kattis(sums("data", {"1": (1, 2)}))
        up = self.upload(zip_of(files))
        answer = self.judge(up["id"], APLUSB_PY)
        self.assertEqual([(t["name"], t["group"], t["verdict"]) for t in answer["tests"]],
                         [("1", "data", "accepted")])

    def test_on_reject_break_skips_the_rest(self):
        """A wrong answer in sample (on_reject: break, the default) ends
        the judging: secret is never graded, its tests skipped."""
        files = kattis({**sums("data/sample", {"1": (1, 1)}),
                        **sums("data/secret", {"1": (2, 2), "2": (3, 3)})})
        up = self.upload(zip_of(files))
        answer = self.judge(up["id"], "print(0)\n")
        self.assertEqual(answer["verdict"], "wrong_answer")
        self.assertEqual(self.verdicts(answer), {
            "sample/1": "wrong_answer", "secret/1": "skipped", "secret/2": "skipped"})
        self.assertEqual({g["name"]: g["reached"] for g in answer["groups"]},
                         {"data": True, "data/sample": True, "data/secret": False})

    def test_worst_error_of_a_group(self):
        """worst_error: the verdict is the first of RTE, TLE, WA (in that
        order) present, whatever order the tests come in."""
        files = kattis(outputs("data/secret", {"1": ("1\n", "2\n"), "2": ("crash\n", "x\n")}),
                       testdata={"data": "on_reject: continue\n"})
        up = self.upload(zip_of(files))
        code = ("import sys\nd = sys.stdin.read()\nif 'crash' in d: sys.exit(3)\n"
                "print(d.split()[1])\n")
        answer = self.judge(up["id"], code)
        self.assertEqual(self.verdicts(answer),
                         {"secret/1": "wrong_answer", "secret/2": "runtime_error"})
        self.assertEqual(answer["verdict"], "runtime_error")

    # -- custom output validators --

    def test_custom_output_validator(self):
        files = kattis({**sums("data/secret/a", {"1": (1, 2), "2": (3, 4)}),
                        **sums("data/secret/b", {"1": (5, 6)})},
                       "validation: custom\nvalidator_flags: one two\n",
                       testdata={"data": "on_reject: continue\n",
                                 "data/secret/b": "output_validator_flags: strict\n"},
                       extra={"output_validators/sum/validate.cpp": SUM_VALIDATOR_CPP})
        up = self.upload(zip_of(files))
        self.assertEqual(up["judged_by"]["checking"], "output_validator")
        self.assertEqual(up["judged_by"]["validator"]["language"], "cpp")
        self.assertIn("validator", up["compile"])
        # "3 x" after the number: fine for a, not for b (strict)
        answer = self.judge(up["id"], APLUSB_PY.replace("print(a + b)", "print(a + b, 'x')"))
        v = self.verdicts(answer)
        self.assertEqual(v, {"secret/a/1": "accepted", "secret/a/2": "accepted",
                             "secret/b/1": "wrong_answer"})
        msgs = {t["name"]: t["message"] for t in answer["tests"]}
        self.assertEqual(msgs["secret/a/1"], "flags 2")  # validator_flags
        self.assertEqual(msgs["secret/b/1"], "trailing x")
        self.assertTrue(answer["checker"]["stored"])
        answer = self.judge(up["id"], "print(7)\n")
        self.assertEqual(answer["tests"][0]["message"], "expected 3 got 7")

    def test_validator_exit_zero_is_a_judge_error(self):
        """Any exit but 42 and 43, 0 too, is the validator's failure."""
        files = kattis(sums("data/secret", {"1": (1, 2)}), "validation: custom\n",
                       extra={"output_validators/v/v.py": "import sys\nsys.exit(0)\n"})
        up = self.upload(zip_of(files))
        answer = self.judge(up["id"], APLUSB_PY)
        self.assertEqual(answer["verdict"], "checker_error")

    def test_validator_that_does_not_compile(self):
        files = kattis(sums("data/secret", {"1": (1, 2)}), "validation: custom\n",
                       extra={"output_validators/v/v.cpp": "int main( {"})
        answer = self.upload(zip_of(files), 400)
        self.assertEqual(answer["error"]["code"], "compile_error")
        self.assertIn("validator", answer["compile"])
        self.assertNotEqual(answer["compile"]["validator"]["stderr"], "")

    # -- interactive --

    def test_kattis_interactive(self):
        tests = {f"data/secret/{n}.in": f"{n}\n" for n in (1, 50, 100)}
        tests.update({f"data/secret/{n}.ans": "" for n in (1, 50, 100)})
        files = kattis(tests, "validation: custom interactive\n",
                       extra={"output_validators/guess/guess.py": GUESS_VALIDATOR_PY})
        up = self.upload(zip_of(files))
        self.assertEqual(up["judged_by"]["interaction"], "output_validator")
        answer = self.judge(up["id"], GUESS_PY)
        self.assertEqual(answer["verdict"], "accepted", answer)
        self.assertTrue(all(t["message"].startswith("found in") for t in answer["tests"]))
        answer = self.judge(up["id"], CHEAT_GUESS_PY)
        self.assertEqual(answer["verdict"], "wrong_answer")
        # in the order of their names: 1, 100, 50
        self.assertEqual(self.verdicts(answer), {"secret/1": "accepted",
                                                 "secret/100": "wrong_answer",
                                                 "secret/50": "skipped"})
        self.assertIn("the number was 100", answer["tests"][1]["message"])

    def test_polygon_interactor_then_checker(self):
        """An interactor that only copies the answer (testlib's A+B) and a
        checker on its output file: a wrong submission is wrong."""
        files = {"1.in": "1 2\n", "1.ans": "3\n", "2.in": "10 20\n", "2.ans": "30\n",
                 "interactor.cpp": APLUSB_INTERACTOR_CPP, "checker.cpp": APLUSB_CHECKER_CPP}
        up = self.upload(zip_of(files))
        self.assertEqual((up["format"], up["judged_by"]["interaction"]),
                         ("plain", "testlib_interactor"))
        answer = self.judge(up["id"], APLUSB_PY)
        self.assertEqual(answer["verdict"], "accepted", answer)
        answer = self.judge(up["id"], "input()\nprint(4)\n")
        self.assertEqual(answer["verdict"], "wrong_answer")
        self.assertIn("expected 3, found 4", answer["tests"][0]["message"])

    # -- plain packages, testlib's points --

    def test_plain_natural_order_and_tokens(self):
        files = {f"tests/{n}.in": f"{n} {n}\n" for n in (1, 2, 10)}
        files.update({f"tests/{n}.out": f"  {2 * n}\n\n" for n in (1, 2, 10)})
        up = self.upload(tar_of(files, top="aplusb/"))
        self.assertEqual((up["format"], up["judged_by"]["checking"]), ("plain", "builtin"))
        answer = self.judge(up["id"], APLUSB_PY)
        self.assertEqual([t["name"] for t in answer["tests"]],
                         ["tests/1", "tests/2", "tests/10"])
        self.assertEqual(answer["verdict"], "accepted")

    def test_testlib_points(self):
        files = {"1.in": "say\n0.5\n", "1.ans": "", "2.in": "say\n2\n", "2.ans": "",
                 "3.in": "say\npc 40\n", "3.ans": "", "check.py": POINTS_CHECKER_PY}
        up = self.upload(zip_of(files))
        self.assertEqual(up["judged_by"]["checking"], "testlib_checker")
        answer = self.judge(up["id"], SAY_PY)
        self.assertEqual([t["verdict"] for t in answer["tests"]], ["partially_accepted"] * 3)
        self.assertEqual([t["score"] for t in answer["tests"]], [0.5, 2, 40])
        self.assertEqual(answer["verdict"], "partially_accepted")
        self.assertAlmostEqual(answer["score"], 42.5)

    # -- scoring --

    def test_scoring_groups(self):
        """IOI-style: each group is worth its accept_score if all its tests
        pass (grader_flags min), secret sums the groups, the sample does not
        count (ignore_sample)."""
        files = kattis({**sums("data/sample", {"1": (1, 1)}),
                        **sums("data/secret/g1", {"1": (1, 2), "2": (3, 4)}),
                        **sums("data/secret/g2", {"1": (10**12, 1), "2": (5, 6)})},
                       "type: scoring\n",
                       testdata={"data": "on_reject: continue\ngrader_flags: ignore_sample\n",
                                 "data/secret": "grader_flags: sum accept_if_any_accepted\n",
                                 "data/secret/g1": "accept_score: 30\ngrader_flags: min\n"
                                                   "on_reject: break\n",
                                 "data/secret/g2": "accept_score: 70\ngrader_flags: min\n"
                                                   "on_reject: break\n"})
        up = self.upload(zip_of(files))
        self.assertEqual(up["type"], "scoring")
        full = self.judge(up["id"], APLUSB_PY)
        self.assertEqual((full["verdict"], full["score"]), ("accepted", 100))
        # small numbers only: 32 bits overflow on g2/1
        small = ("a, b = map(int, input().split())\n"
                 "print((a + b + 2**31) % 2**32 - 2**31)\n")
        part = self.judge(up["id"], small)
        self.assertEqual(part["score"], 30)
        self.assertEqual(part["verdict"], "accepted")  # accept_if_any_accepted
        groups = {g["name"]: (g["verdict"], g.get("score")) for g in part["groups"]}
        self.assertEqual(groups["data/secret/g1"], ("accepted", 30))
        self.assertEqual(groups["data/secret/g2"], ("wrong_answer", 0))
        self.assertEqual(self.verdicts(part)["secret/g2/2"], "skipped")

    def test_validator_scores(self):
        files = kattis(outputs("data/secret", {"1": ("score 12.5\n", ""),
                                               "2": ("score 7\n", ""),
                                               "3": ("nope\n", "")}),
                       "type: scoring\nvalidation: custom score\n",
                       testdata={"data": "on_reject: continue\n"},
                       extra={"output_validators/s/s.py": SCORE_VALIDATOR_PY})
        up = self.upload(zip_of(files))
        answer = self.judge(up["id"], SAY_PY)
        self.assertEqual([t.get("score") for t in answer["tests"]], [12.5, 7, None])
        self.assertEqual(answer["score"], 19.5)
        self.assertEqual(answer["verdict"], "wrong_answer")

    def test_validator_scores_where_they_are_wrong(self):
        """As problemtools judges them: a score for a rejected output, a
        score where the problem takes none, and none where its validation
        says score are the validator's failure."""
        validator = (
            "import sys\n"
            "words = sys.stdin.read().split()\n"
            "if words[0] in ('s', 'ws'):\n"
            "    open(sys.argv[3] + 'score.txt', 'w').write(words[1])\n"
            "sys.exit(43 if words[0] == 'ws' else 42)\n")
        tests = outputs("data/secret", {"1": ("s 5\n", ""), "2": ("ws 3\n", ""),
                                        "3": ("an\n", "")})
        scoring = self.upload(zip_of(kattis(
            tests, "type: scoring\nvalidation: custom score\n",
            testdata={"data": "on_reject: continue\n"},
            extra={"output_validators/v/v.py": validator})))
        answer = self.judge(scoring["id"], SAY_PY)
        self.assertEqual(self.verdicts(answer), {
            "secret/1": "accepted", "secret/2": "checker_error", "secret/3": "checker_error"})
        self.assertIn("rejected", answer["tests"][1]["message"])
        self.assertIn("no score.txt", answer["tests"][2]["message"])
        passfail = self.upload(zip_of(kattis(
            tests, "validation: custom\n", testdata={"data": "on_reject: continue\n"},
            extra={"output_validators/v/v.py": validator})))
        answer = self.judge(passfail["id"], SAY_PY)
        self.assertEqual(self.verdicts(answer), {
            "secret/1": "checker_error", "secret/2": "checker_error", "secret/3": "accepted"})
        self.assertIn("takes none", answer["tests"][0]["message"])

    # -- the newer format, time limits --

    def test_2023_07_package(self):
        files = {"problem.yaml": "problem_format_version: 2023-07-draft\nname: {en: Newer}\n"
                                 "uuid: 1c1d2c3e-1111-2222-3333-444455556666\ntype: scoring\n"
                                 "limits: {time_limit: 1.5, memory: 512}\n",
                 "data/secret/test_group.yaml": "max_score: 100\n",
                 "data/secret/a/test_group.yaml": "max_score: 40\nscore_aggregation: min\n",
                 "data/secret/b/test_group.yaml": "max_score: 60\nscore_aggregation: sum\n",
                 "data/invalid_input/1.in": "x\n", "data/invalid_input/1.ans": "x\n",
                 **sums("data/sample", {"1": (1, 1)}),
                 **sums("data/secret/a", {"1": (1, 2), "2": (2, 3)}),
                 **sums("data/secret/b", {"1": (1, 1), "2": (2, 2), "3": (3, 3)})}
        up = self.upload(zip_of(files))
        self.assertEqual((up["format_version"], up["name"], up["tests"]),
                         ("2023-07-draft", "Newer", 6))
        self.assertEqual(up["limits"], {"time_ms": 1500, "memory_kb": 512 * 1024})
        # b/2 wrong: a's 40, and two of b's three tests (20 each)
        code = APLUSB_PY.replace("print(a + b)", "print(a + b + (a == 2 and b == 2))")
        answer = self.judge(up["id"], code)
        self.assertAlmostEqual(answer["score"], 80)
        # the time limit times python's judge_time_multipliers (2); the
        # wall time twice that and a second
        limits = answer["tests"][0]["limits"]
        self.assertEqual((limits["cpu_ms"], limits["wall_ms"], limits["memory_kb"]),
                         (3000, 7000, 512 * 1024))
        # a limit the request gives is the request's
        answer = self.judge(up["id"], APLUSB_PY, limits={"cpu_ms": 900})
        self.assertEqual(answer["tests"][0]["limits"]["cpu_ms"], 900)

    def test_timelimit_file_and_time_limit(self):
        files = kattis(sums("data/secret", {"1": (1, 2)}), extra={".timelimit": "1\n"})
        up = self.upload(zip_of(files))
        self.assertEqual(up["limits"]["time_ms"], 1000)
        answer = self.judge(up["id"], "while True: pass\n")
        self.assertEqual(answer["verdict"], "time_limit")
        self.assertEqual(answer["tests"][0]["limits"]["cpu_ms"], 2000)

    # -- the other ways in --

    def test_jobs_and_websocket(self):
        files = kattis(sums("data/secret", {"1": (1, 2), "2": (2, 2)}))
        up = self.upload(zip_of(files))
        body = {"language": "python", "code": APLUSB_PY, "mode": "judge", "problem": up["id"]}
        code, view, _ = self.server.request("POST", "/api/v1/jobs", body)
        self.assertEqual(code, 202, view)
        deadline = time.monotonic() + 60
        while view.get("state") != "done" and time.monotonic() < deadline:
            time.sleep(0.1)
            view = self.server.request("GET", f"/api/v1/jobs/{view['id']}")[1]
        self.assertEqual(view["result"]["verdict"], "accepted", view)

        async def over_ws():
            async with websockets.connect(self.server.url.replace("http", "ws") +
                                          "/api/v1/ws") as ws:
                await ws.send(json.dumps({"type": "judge", **body}))
                async for message in ws:
                    event = json.loads(message)
                    if event["type"] in ("result", "error"):
                        return event
        event = asyncio.run(over_ws())
        self.assertEqual(event["type"], "result", event)
        self.assertEqual(event["result"]["verdict"], "accepted")


class ProblemsStay(unittest.TestCase):
    """A stored problem is there for the next server of the same state
    directory."""

    def test_survives_a_restart(self):
        files = kattis(sums("data/secret", {"1": (4, 5)}), "name: Stays\n")
        path = problems_dir()
        self.addCleanup(shutil.rmtree, path, True)
        config = {"pool_total": 0, "pool_sizes": {"python": 1}, "problems_dir": f"{path}/store"}
        server = Server(config)
        try:
            code, up, _ = server.request("POST", "/api/v1/problems", raw=zip_of(files))
            self.assertEqual(code, 201, up)
        finally:
            self.assertEqual(server.stop(), 0)
        self.assertEqual(sorted(os.listdir(f"{path}/store/{up['id']}")),
                         ["data", "problem.json"])
        server = Server(config)
        try:
            code, shown, _ = server.request("GET", f"/api/v1/problems/{up['id']}")
            self.assertEqual((code, shown["name"]), (200, "Stays"))
            code, answer, _ = server.request("POST", "/api/v1/judge", {
                "language": "python", "code": APLUSB_PY, "problem": up["id"]})
            self.assertEqual(answer["verdict"], "accepted")
        finally:
            self.assertEqual(server.stop(), 0)


class ProblemsAcrossNodes(unittest.TestCase):
    """Many machines on one queue (Redis): each node with a store of its own
    (problems_dir), as on machines that share no disk. A problem uploaded
    to one API node is seen on the other, judged by a worker that never
    had it, and, removed on one node, gone from every one."""

    @classmethod
    def setUpClass(cls):
        cls.redis = Redis()
        cls.dirs = [tempfile.mkdtemp(prefix="sandpool-problems-") for _ in range(3)]
        for d in cls.dirs:
            os.chmod(d, 0o755)
        queue = ["--queue", cls.redis.url]
        cls.api = [Server({"pool_total": 0, "problems_dir": f"{d}/store"}, queue)
                   for d in cls.dirs[:2]]
        cls.worker = Server({"pool_total": 0, "pool_sizes": {"python": 2},
                             "problems_dir": f"{cls.dirs[2]}/store"}, queue, "worker")

    @classmethod
    def tearDownClass(cls):
        for node in cls.api + [cls.worker]:
            node.stop()
        cls.redis.stop()
        for d in cls.dirs:
            shutil.rmtree(d, ignore_errors=True)

    def stored(self, node, problem):
        return os.path.isdir(os.path.join(self.dirs[node], "store", problem))

    def test_shared_by_every_node(self):
        files = kattis(outputs("data/secret", {"1": ("score 3\n", ""), "2": ("score 4\n", "")}),
                       "type: scoring\nvalidation: custom score\n",
                       testdata={"data": "on_reject: continue\n"},
                       extra={"output_validators/s/s.py": SCORE_VALIDATOR_PY})
        code, up, _ = self.api[0].request("POST", "/api/v1/problems", raw=zip_of(files))
        self.assertEqual(code, 201, up)
        pid = up["id"]
        self.assertEqual(self.redis.cli("SISMEMBER", "sandpool:problems", pid), "1")
        self.assertTrue(self.stored(0, pid))
        self.assertFalse(self.stored(1, pid) or self.stored(2, pid))
        # the other API node brings it when asked, and lists it
        code, shown, _ = self.api[1].request("GET", f"/api/v1/problems/{pid}")
        self.assertEqual((code, shown["tests"]), (200, 2))
        self.assertTrue(self.stored(1, pid))
        listed = self.api[1].request("GET", "/api/v1/problems")[1]["problems"]
        self.assertIn(pid, [p["id"] for p in listed])
        # the worker, which never had it, judges it
        code, answer, _ = self.api[1].request("POST", "/api/v1/judge", {
            "language": "python", "code": SAY_PY, "problem": pid})
        self.assertEqual(code, 200, answer)
        self.assertEqual(answer["score"], 7, answer)
        self.assertTrue(self.stored(2, pid))
        # the same package again, on the other node: stored once
        code, again, _ = self.api[1].request("POST", "/api/v1/problems", raw=tar_of(files))
        self.assertEqual((code, again["id"]), (200, pid))
        # removed on one node: gone from every node
        code, _, _ = self.api[0].request("DELETE", f"/api/v1/problems/{pid}")
        self.assertEqual(code, 200)
        self.assertEqual(self.redis.cli("EXISTS", f"sandpool:problem:{pid}"), "0")
        code, _, _ = self.api[1].request("GET", f"/api/v1/problems/{pid}")
        self.assertEqual(code, 404)
        self.assertFalse(self.stored(1, pid))
        code, answer, _ = self.api[1].request("POST", "/api/v1/judge", {
            "language": "python", "code": SAY_PY, "problem": pid})
        self.assertEqual((code, answer["error"]["code"]), (404, "unknown_problem"))


def store_entries(store):
    """What a store of problems holds: its problems and its drafts."""
    found = set()
    for sub in ("", ".tmp"):
        path = os.path.join(store, sub)
        if os.path.isdir(path):
            found |= {f"{sub}/{n}" for n in os.listdir(path) if n != ".tmp"}
    return found


class HostileArchives(unittest.TestCase):
    """Archives that try to write outside, to be too large, or to break the
    reader: each refused with a clear 4xx, the server alive, and nothing
    left in the store."""

    @classmethod
    def setUpClass(cls):
        cls.dir = problems_dir()
        cls.store = f"{cls.dir}/store"
        cls.server = Server({"pool_total": 0, "pool_sizes": {"python": 1},
                             "problem_max_mb": 1, "problem_max_files": 50,
                             "problems_dir": cls.store})

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)
        assert code == 0, f"sandpool serve exited {code}"

    def refused(self, data, status, code, words):
        got, answer, _ = self.server.request("POST", "/api/v1/problems", raw=data)
        self.assertEqual(got, status, answer)
        self.assertEqual(answer["error"]["code"], code, answer)
        self.assertIn(words, answer["error"]["message"])
        # nothing stored, nothing half-written left
        self.assertEqual(store_entries(self.store), set())
        self.assertEqual(self.server.request("GET", "/healthz")[0], 200)

    def tar_entry(self, info, data=b""):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as t:
            t.addfile(info, io.BytesIO(data) if data else None)
            for name, text in sums("data/secret", {"1": (1, 1)}).items():
                ti = tarfile.TarInfo(name)
                ti.size = len(text)
                t.addfile(ti, io.BytesIO(text.encode()))
        return buf.getvalue()

    def test_dot_dot(self):
        info = tarfile.TarInfo("../../escape.in")
        info.size = 1
        self.refused(self.tar_entry(info, b"x"), 400, "bad_package", "escape.in")

    def test_absolute_name(self):
        info = tarfile.TarInfo("/etc/sandpool-escape")
        info.size = 1
        self.refused(self.tar_entry(info, b"x"), 400, "bad_package", "sandpool-escape")

    def test_symlink_out(self):
        info = tarfile.TarInfo("data/secret/2.in")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/shadow"
        self.refused(self.tar_entry(info), 400, "bad_package", "2.in")

    def test_hard_link(self):
        info = tarfile.TarInfo("data/secret/2.in")
        info.type = tarfile.LNKTYPE
        info.linkname = "/etc/passwd"
        self.refused(self.tar_entry(info), 400, "bad_package", "2.in")

    def test_device(self):
        info = tarfile.TarInfo("data/secret/2.in")
        info.type = tarfile.CHRTYPE
        info.devmajor, info.devminor = 1, 3
        self.refused(self.tar_entry(info), 400, "bad_package", "2.in")

    def test_too_many_files(self):
        files = {f"t/{i}.in": "1" for i in range(60)}
        self.refused(zip_of(files), 413, "package_too_large", "")

    def test_too_many_bytes(self):
        files = kattis({"data/secret/1.in": "x" * (1536 * 1024), "data/secret/1.ans": "x"})
        self.refused(zip_of(files), 413, "package_too_large", "")

    def test_gzip_bomb(self):
        """A tar.gz that inflates to 64 MiB of one file: refused before the
        tar reader sees it, whatever its header declares."""
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w") as t:
            info = tarfile.TarInfo("data/secret/1.in")
            info.size = 64 * 1024 * 1024
            t.addfile(info, io.BytesIO(b"\0" * info.size))
        self.refused(gzip.compress(raw.getvalue(), 9), 413, "package_too_large", "")

    def test_not_an_archive(self):
        self.refused(b"hello, this is no archive" * 10, 400, "bad_package", "")

    def test_truncated_zip(self):
        data = zip_of(kattis(sums("data/secret", {"1": (1, 2)})))
        self.refused(data[:len(data) // 2], 400, "bad_package", "")

    def test_top_folder_and_a_file_outside(self):
        """FOLDER/problem.yaml first and a file outside FOLDER: there is no
        top folder to cut from the names (cutting it read past the end of
        the short one): a plain package of one test, the same whatever the
        order of its files."""
        files = {"hello/problem.yaml": "name: x\n", **sums("hello/data/secret", {"1": (1, 2)}),
                 "a": "x"}
        code, up, _ = self.server.request("POST", "/api/v1/problems", raw=zip_of(files))
        self.assertEqual((code, up["format"], up["tests"]), (201, "plain", 1), up)
        again = dict(reversed(list(files.items())))
        code, same, _ = self.server.request("POST", "/api/v1/problems", raw=zip_of(again))
        self.assertEqual((code, same["id"]), (200, up["id"]))
        code, _, _ = self.server.request("DELETE", f"/api/v1/problems/{up['id']}")
        self.assertEqual(code, 200)
        self.assertEqual(store_entries(self.store), set())

    def test_validator_folder_of_folders(self):
        """A validator folder whose only "source" is a folder named like one
        (it crashed the server): refused, the server alive."""
        files = kattis(sums("data/secret", {"1": (1, 2)}), "validation: custom\n",
                       extra={"output_validators/v/c.py/x": "print(1)\n"})
        self.refused(zip_of(files), 400, "bad_package", "no source file")

    def test_infinite_score(self):
        files = kattis(sums("data/secret", {"1": (1, 2)}), "type: scoring\n",
                       testdata={"data/secret": "accept_score: .inf\n"})
        self.refused(zip_of(files), 400, "bad_package", "accept_score")

    def test_empty_body(self):
        self.refused(b"", 400, "bad_package", "empty")

    def test_no_tests(self):
        self.refused(zip_of({"readme.txt": "nothing here"}), 400, "bad_package", "no test")

    def test_yaml_alias_bomb(self):
        bomb = "a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n" \
               "c: [*b, *b, *b, *b, *b, *b, *b, *b]\n"
        files = kattis(sums("data/secret", {"1": (1, 2)}), bomb)
        self.refused(zip_of(files), 400, "bad_package", "alias")

    def test_bad_yaml_names_its_line(self):
        files = kattis(sums("data/secret", {"1": (1, 2)}), "name: x\nlimits: [\n")
        self.refused(zip_of(files), 400, "bad_package", "problem.yaml")

    def test_unknown_key(self):
        files = kattis(sums("data/secret", {"1": (1, 2)}), "name: x\ncolour: blue\n")
        self.refused(zip_of(files), 400, "bad_package", "colour")

    def test_custom_grader_refused(self):
        files = kattis(sums("data/secret", {"1": (1, 2)}), "type: scoring\n",
                       testdata={"data": "grading: custom\n"})
        self.refused(zip_of(files), 400, "bad_package", "grading")

    def test_too_large_a_body(self):
        got, answer, _ = self.server.request("POST", "/api/v1/problems",
                                             raw=b"\0" * (3 * 1024 * 1024))
        self.assertEqual(got, 413, answer)


if __name__ == "__main__":
    unittest.main()
