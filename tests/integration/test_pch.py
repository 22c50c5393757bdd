"""The gcc image's precompiled <bits/stdc++.h> (rootfs/images/gcc.json,
"precompiled_headers"), through HTTP.

A C++ program that includes bits/stdc++.h compiles, runs and answers
right; the compile of every language that compiles C++ with g++ takes the
PCH (-H names bits/stdc++.h.gch first: this fails over an image without
it); what makes gcc reject the PCH (a macro the headers read defined
before the include, other flags through compile_args or Judge0's
compiler_options) compiles from the header's text, and right; a compile
error gives the same compiler output with the PCH as without it.

"Without it" is the same request with compile_args ["-fpie"]: on x86-64
the code is the same as with Debian's default -fPIE, and gcc rejects a
PCH made at another PIE level, so the compile parses the headers' text
(the test checks both with -H).

Environment (set by tools/run-tests): as test_server.
"""

import concurrent.futures
import json
import re
import unittest
import urllib.request

import samples
from test_server import Server

# -H's first line when the PCH is taken, and when it is there but rejected
TAKEN = re.compile(r"! (/\S*/bits/stdc\+\+\.h\.gch/\S+)")
REJECTED = re.compile(r"x (/\S*/bits/stdc\+\+\.h\.gch/\S+)")
# a temporary object's name in the linker's messages
TEMP_NAME = re.compile(r"/tmp/cc[A-Za-z0-9]{6}\.")
WITHOUT_PCH = ["-fpie"]

PROGRAM = r"""#include <bits/stdc++.h>
using namespace std;
typedef long long ll;

int main() {
    ios::sync_with_stdio(false);
    cin.tie(nullptr);
    int n;
    cin >> n;
    vector<ll> a(n);
    for (auto &x : a) cin >> x;
    sort(a.begin(), a.end());
    map<ll, int> count;
    for (ll x : a) count[x]++;
    priority_queue<ll> pq(a.begin(), a.end());
    ll top2 = pq.top();
    pq.pop();
    top2 += pq.top();
    string s;
    for (ll x : a) s += to_string(x) + ",";
    cout << accumulate(a.begin(), a.end(), 0LL) << ' ' << count.size() << ' ' << top2 << '\n';
    cout << s.substr(0, s.size() - 1) << '\n';
    cout << fixed << setprecision(3) << sqrt((double)a.back()) << ' ' << __gcd(a[0], a[1]) << '\n';
    bitset<16> b(a.back());
    cout << b << ' ' << __builtin_popcountll(a.back()) << '\n';
    return 0;
}
"""
PROGRAM_IN = "6\n12 18 7 12 1000 5\n"
PROGRAM_OUT = "1054 5 1018\n5,7,12,12,18,1000\n31.623 1\n0000001111101000 6\n"

# compile errors: in the program's own code, and inside the library's
# headers (their diagnostics name the chain of includes)
BROKEN = {
    "syntax": "#include <bits/stdc++.h>\nusing namespace std;\n"
              "int main() {\n\tint x = 1\n\tcout << x << endl;\n}\n",
    "undeclared": "#include <bits/stdc++.h>\nint main() { return nope; }\n",
    "in the headers": "#include <bits/stdc++.h>\nusing namespace std;\nstruct P { int a; };\n"
                      "int main() {\n\tlist<int> l{3, 1, 2};\n\tsort(l.begin(), l.end());\n"
                      "\tset<P> s;\n\ts.insert(P{1});\n\tvector<int> v;\n"
                      "\tv.push_back(\"x\");\n}\n",
    "hash of a pair": "#include <bits/stdc++.h>\nusing namespace std;\n"
                      "int main() { unordered_map<pair<int, int>, int> m; m[{1, 2}] = 3; }\n",
    "link": "#include <bits/stdc++.h>\nint f();\nint main() { return f(); }\n",
    "warnings": "#include <bits/stdc++.h>\nint main() {\n\tstd::vector<int> v{1, 2, 3};\n"
                "\tstd::random_shuffle(v.begin(), v.end());\n"
                "\tstd::cout << v.size() << std::endl;\n}\n",
    "after a comment": "// A + B\n\n#include <bits/stdc++.h>\nusing namespace std;\n"
                       "int main() { cout << nope << endl; }\n",
}

_server = None


def server():
    global _server
    if _server is None:
        _server = Server({"pool_total": 2, "pool_sizes": {"cpp": 2}})
    return _server


def tearDownModule():
    global _server
    if _server is not None:
        server, _server = _server, None
        code = server.stop()
        assert code == 0, f"sandpool serve exited {code}"


def first_line(text):
    return (text or "").split("\n")[0]


class Pch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = samples.unavailable("cpp")
        if why:
            raise unittest.SkipTest(why)
        cls.server = server()

    def run_cpp(self, code, stdin="", compile_args=(), language="cpp"):
        body = {"language": language, "code": code, "stdin": stdin}
        if compile_args:
            body["compile_args"] = list(compile_args)
        status, answer, _ = self.server.run(body)
        self.assertEqual(status, 200, answer)
        return answer

    def headers_read(self, code, compile_args=(), language="cpp"):
        """-H's first line for CODE's compile: what gcc made of the PCH."""
        answer = self.run_cpp(code, compile_args=[*compile_args, "-H"], language=language)
        return first_line(answer["compile"]["stderr"]), answer

    def test_a_program_including_it_compiles_runs_and_answers(self):
        answer = self.run_cpp(PROGRAM, PROGRAM_IN)
        detail = json.dumps(answer, indent=1)[:3000]
        self.assertEqual(answer["status"], "ok", detail)
        self.assertEqual(answer["compile"]["exit_code"], 0, detail)
        self.assertEqual(answer["compile"]["stderr"], "", detail)
        self.assertEqual(answer["stdout"], PROGRAM_OUT, detail)

    def test_every_gxx_language_takes_the_pch(self):
        """Each language that compiles C++ with g++ (cpp) takes the .gch:
        fails over a gcc image without it (-H's first line is then the
        header itself, '. .../bits/stdc++.h')."""
        files = samples.language_files()
        gxx = [name for name, doc in files.items()
               if doc.get("compile") and doc["compile"][0] in ("g++", "c++")]
        self.assertIn("cpp", gxx)
        for language in gxx:
            with self.subTest(language=language):
                if samples.unavailable(language):
                    self.skipTest(samples.unavailable(language))
                line, answer = self.headers_read(PROGRAM, language=language)
                self.assertRegex(line, TAKEN, json.dumps(answer)[:2000])
                self.assertEqual(answer["compile"]["status"], "ok", answer)
                answer = self.run_cpp(PROGRAM, PROGRAM_IN, ["-Winvalid-pch"], language)
                self.assertEqual((answer["status"], answer["compile"]["stderr"],
                                  answer["stdout"]), ("ok", "", PROGRAM_OUT))

    def test_a_macro_the_headers_read_defined_before_falls_back(self):
        # debug mode: the vector's bounds checked, a library the PCH does not hold
        code = ("#define _GLIBCXX_DEBUG\n#include <bits/stdc++.h>\n"
                "int main() { std::vector<int> v(3); std::cout << v[5] << std::endl; }\n")
        line, _ = self.headers_read(code)
        self.assertRegex(line, REJECTED)
        answer = self.run_cpp(code)
        self.assertEqual(answer["status"], "runtime_error", answer)
        self.assertIn("attempt to subscript container with out-of-bounds index",
                      answer["stderr"])
        # assert() made a no-op: <cassert> defines it by NDEBUG at its include
        code = ("#define NDEBUG\n#include <bits/stdc++.h>\n"
                "int main() { assert(1 + 1 == 3); std::cout << \"unchecked\" << std::endl; }\n")
        line, _ = self.headers_read(code)
        self.assertRegex(line, REJECTED)
        answer = self.run_cpp(code)
        self.assertEqual((answer["status"], answer["stdout"]), ("ok", "unchecked\n"), answer)
        # a macro the headers do not read: the PCH is taken, and the macro kept
        code = ("#define LOCAL 7\n#include <bits/stdc++.h>\n"
                "int main() { std::cout << LOCAL << std::endl; }\n")
        line, _ = self.headers_read(code)
        self.assertRegex(line, TAKEN)
        self.assertEqual(self.run_cpp(code)["stdout"], "7\n")

    def test_other_flags_fall_back_and_compile_right(self):
        code = ("#include <bits/stdc++.h>\nint main() {\n#ifdef __STRICT_ANSI__\n"
                "\tstd::cout << \"strict \";\n#endif\n#ifdef __OPTIMIZE__\n"
                "\tstd::cout << \"optimized \";\n#endif\n#ifdef LOCAL\n\tstd::cout << \"local \";\n"
                "#endif\n\tstd::cout << __cplusplus << std::endl;\n}\n")
        cases = [([], TAKEN, "optimized 201703\n"),
                 (["-std=c++17"], REJECTED, "strict optimized 201703\n"),
                 (["-std=gnu++20"], REJECTED, "optimized 202002\n"),
                 (["-O0"], REJECTED, "201703\n"),
                 (["-g"], REJECTED, "optimized 201703\n"),
                 (["-DLOCAL", "-Wall"], TAKEN, "optimized local 201703\n")]
        for args, read, want in cases:
            with self.subTest(compile_args=args):
                line, _ = self.headers_read(code, args)
                self.assertRegex(line, read)
                answer = self.run_cpp(code, compile_args=args)
                self.assertEqual((answer["status"], answer["stdout"]), ("ok", want), answer)
        # Judge0's compiler_options, put in the same place
        for options, want in (("-O0 -DLOCAL", "local 201703\n"),
                              ("-std=c++14", "strict optimized 201402\n")):
            with self.subTest(compiler_options=options):
                body = json.dumps({"language_id": 54, "source_code": code,
                                   "compiler_options": options}).encode()
                req = urllib.request.Request(
                    self.server.url + "/submissions?wait=true&fields=stdout,status",
                    data=body, headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(req, timeout=120) as r:
                    answer = json.loads(r.read())
                self.assertEqual(answer, {"stdout": want,
                                          "status": {"id": 3, "description": "Accepted"}})

    def test_compile_errors_read_as_without_the_pch(self):
        """The compiler's output of a broken program, with the PCH and
        without it (compile_args -fpie, checked to reject it), the same:
        status, exit status, stdout and stderr (the linker's temporary
        object names aside). Diagnostics inside the library's headers name
        the includes' chain down to main.cpp:1 alike: the PCH was made from
        a main.cpp that includes the header on its first line."""
        line, _ = self.headers_read(BROKEN["syntax"], WITHOUT_PCH)
        self.assertRegex(line, REJECTED)

        def both(code):
            return [self.run_cpp(code, compile_args=args) for args in ((), WITHOUT_PCH)]

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            answers = dict(zip(BROKEN, pool.map(both, BROKEN.values())))
        for name, (pch, text) in answers.items():
            with self.subTest(program=name):
                views = [(a["status"], a["compile"]["exit_code"], a["compile"]["stdout"],
                          TEMP_NAME.sub("/tmp/ccXXXXXX.", a["compile"]["stderr"]))
                         for a in (pch, text)]
                self.assertEqual(views[0], views[1])
                want = "ok" if name == "warnings" else "compile_error"
                self.assertEqual(pch["status"], want, pch)
                if name == "in the headers":
                    self.assertIn("In file included from", pch["compile"]["stderr"])
                    self.assertIn("from main.cpp:1:", pch["compile"]["stderr"])


if __name__ == "__main__":
    unittest.main()
