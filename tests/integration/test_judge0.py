"""Judge0 CE's API (1.13.1) at its own paths, as its clients call it: the
languages with Judge0's ids, the statuses, about and version; its
authentication with X-Auth-Token (a header or the query) beside
Authorization: Bearer, and 401 with an empty body without a token.
Submissions as a Judge0 client makes them (plain HTTP): waited for or
polled, their fields, base64 both ways, every status, stdin, arguments,
compiler options, stderr into stdout, runs, Judge0's field errors, batches,
deletion, callbacks, additional files, tokens, bad bodies, and the
server's own API and counters beside it.

What Judge0 answers is read from its source at v1.13.1
(app/controllers/submissions_controller.rb, app/models/submission.rb,
app/jobs/isolate_job.rb, app/serializers/submission_serializer.rb,
app/helpers/config.rb).

Environment (set by tools/run-tests): as test_server.
"""

import base64
import http.server
import io
import json
import os
import re
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
import zipfile

import samples
from test_server import Server

TOKEN = "judge0-token-0123456789abcdef"
OTHER = "judge0-other-0123456789abcdef"

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
DECIMAL = re.compile(r"^\d+\.\d+$")
UNKNOWN = "00000000-0000-4000-8000-000000000000"  # UUID-shaped, never a job's

# SubmissionSerializer.default_fields.
DEFAULT_FIELDS = {"token", "time", "memory", "stdout", "stderr", "compile_output", "message",
                  "status"}
# The columns of db/schema.rb's submissions but id, then "status" and
# "language" (SubmissionSerializer's attributes: fields=*).
ALL_FIELDS = ["source_code", "language_id", "stdin", "expected_output", "stdout", "status_id",
              "created_at", "finished_at", "time", "memory", "stderr", "token",
              "number_of_runs", "cpu_time_limit", "cpu_extra_time", "wall_time_limit",
              "memory_limit", "stack_limit", "max_processes_and_or_threads",
              "enable_per_process_and_thread_time_limit",
              "enable_per_process_and_thread_memory_limit", "max_file_size", "compile_output",
              "exit_code", "exit_signal", "message", "wall_time", "compiler_options",
              "command_line_arguments", "redirect_stderr_to_stdout", "callback_url",
              "additional_files", "enable_network", "status", "language"]
# The keys of Config.config_info (app/helpers/config.rb).
CONFIG_INFO_KEYS = {
    "maintenance_mode", "enable_wait_result", "enable_compiler_options",
    "allowed_languages_for_compile_options", "enable_command_line_arguments",
    "enable_submission_delete", "enable_callbacks", "callbacks_max_tries", "callbacks_timeout",
    "enable_additional_files", "max_queue_size", "cpu_time_limit", "max_cpu_time_limit",
    "cpu_extra_time", "max_cpu_extra_time", "wall_time_limit", "max_wall_time_limit",
    "memory_limit", "max_memory_limit", "stack_limit", "max_stack_limit",
    "max_processes_and_or_threads", "max_max_processes_and_or_threads",
    "enable_per_process_and_thread_time_limit", "allow_enable_per_process_and_thread_time_limit",
    "enable_per_process_and_thread_memory_limit",
    "allow_enable_per_process_and_thread_memory_limit", "max_file_size", "max_max_file_size",
    "number_of_runs", "max_number_of_runs", "redirect_stderr_to_stdout", "max_extract_size",
    "enable_batched_submissions", "max_submission_batch_size", "submission_cache_duration",
    "use_docs_as_homepage", "allow_enable_network", "enable_network"}
NOT_UTF8 = ("some attributes for this submission cannot be converted to UTF-8, use "
            "base64_encoded=true query parameter")
NOT_UTF8_BATCH = ("some attributes for one or more submissions cannot be converted to UTF-8, "
                  "use base64_encoded=true query parameter")

PYTHON, C, CPP, JAVA, BASH = 71, 50, 54, 62, 46


def ruby_base64(data):
    """Ruby's Base64.encode64: a newline after every 60 characters and at
    the end; None for None (Base64Service.encode)."""
    if data is None:
        return None
    if isinstance(data, str):
        data = data.encode()
    text = base64.b64encode(data).decode()
    return "".join(text[i:i + 60] + "\n" for i in range(0, len(text), 60))


def b64(data):
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def zip_of(entries, method=zipfile.ZIP_DEFLATED):
    """A zip of ENTRIES ((name or ZipInfo, data)), in base64."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return b64(buf.getvalue())


_shared = None


def shared_server():
    """One server for the classes without tokens: python and c warm, the
    others cold."""
    global _shared
    if _shared is None:
        _shared = Server({"pool_total": 0, "pool_sizes": {"python": 1, "c": 1}})
    return _shared


def tearDownModule():
    global _shared
    if _shared is not None:
        server, _shared = _shared, None
        code = server.stop()
        assert code == 0, f"sandpool serve exited {code}"


class Client:
    """Judge0's API as a client calls it, over plain HTTP."""
    server = None
    headers = {}

    @classmethod
    def setUpClass(cls):
        cls.server = shared_server()

    def call(self, method, path, body=None, raw=None, headers=None, timeout=120):
        """(status, the body as JSON (or bytes when it is not), headers)."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None
                                            else None)
        req = urllib.request.Request(self.server.url + path, data=data, method=method,
                                     headers=dict(self.headers if headers is None else headers))
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                status, text, hdrs = r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            status, text, hdrs = e.code, e.read(), e.headers
        try:
            return status, json.loads(text), hdrs
        except ValueError:
            return status, text, hdrs

    def submit(self, body, query="wait=true", status=201):
        code, answer, _ = self.call("POST", "/submissions?" + query, body)
        self.assertEqual(code, status, answer)
        return answer

    def waited(self, body, fields="*", base64_encoded=False):
        """The submission BODY waited for, with FIELDS."""
        query = f"wait=true&fields={fields}" + ("&base64_encoded=true" if base64_encoded else "")
        return self.submit(body, query)

    def show(self, token, query=""):
        code, answer, _ = self.call("GET", f"/submissions/{token}?{query}")
        self.assertEqual(code, 200, answer)
        return answer

    def until_done(self, token, query="fields=*", seen=None):
        """GET the submission until its status is past 2 (Processing)."""
        deadline = time.monotonic() + 120
        while True:
            answer = self.show(token, query)
            status = answer["status"]["id"] if "status" in answer else answer["status_id"]
            if seen is not None:
                seen.append(status)
            if status > 2:
                return answer
            self.assertLess(time.monotonic(), deadline, answer)
            time.sleep(0.05)

    def field_errors(self, body, query=""):
        """The 422 field errors of BODY."""
        code, answer, _ = self.call("POST", "/submissions" + query, body)
        self.assertEqual(code, 422, answer)
        self.assertIsInstance(answer, dict)
        return answer


class Off(Client, unittest.TestCase):
    """judge0_api and piston_api turn each API off: its paths are not
    there, and /api/v1 is as it was."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server({"pool_total": 1, "pool_sizes": {"python": 1},
                             "judge0_api": False, "piston_api": False})

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        assert code == 0, f"sandpool serve exited {code}"

    def test_each_api_off(self):
        for method, path, body in (("GET", "/languages", None), ("GET", "/config_info", None),
                                   ("POST", "/submissions?wait=true",
                                    {"source_code": "print(1)", "language_id": 71}),
                                   ("GET", "/api/v2/runtimes", None),
                                   ("POST", "/api/v2/execute",
                                    {"language": "python", "version": "*",
                                     "files": [{"content": "print(1)"}]})):
            self.assertEqual(self.call(method, path, body)[0], 404, path)
        # the WebSocket of Piston is not there either: its upgrade is refused
        code, _, _ = self.call("GET", "/api/v2/connect",
                               headers={"Connection": "Upgrade", "Upgrade": "websocket",
                                        "Sec-WebSocket-Version": "13",
                                        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
        self.assertEqual(code, 404)
        code, answer, _ = self.call("POST", "/api/v1/run",
                                    {"language": "python", "code": "print(1)"})
        self.assertEqual((code, answer.get("stdout")), (200, "1\n"), answer)


class Info(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server({"pool_total": 1, "pool_sizes": {"python": 1}, "tokens": [TOKEN]})

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def get(self, path, headers=None):
        req = urllib.request.Request(self.server.url + path,
                                     headers=headers if headers is not None
                                     else {"X-Auth-Token": TOKEN})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def test_no_token_is_401_with_no_body(self):
        for path in ("/languages", "/languages/71", "/statuses", "/about"):
            self.assertEqual(self.get(path, headers={}), (401, b""), path)
        self.assertEqual(self.get("/languages", {"X-Auth-Token": "wrong" * 5}), (401, b""))

    def test_a_token_by_header_query_or_bearer(self):
        for path, headers in (("/languages", {"X-Auth-Token": TOKEN}),
                              (f"/languages?X-Auth-Token={TOKEN}", {}),
                              ("/languages", {"Authorization": f"Bearer {TOKEN}"})):
            status, body = self.get(path, headers)
            self.assertEqual(status, 200, path)

    def test_languages_with_judge0_ids(self):
        status, body = self.get("/languages")
        languages = json.loads(body)
        ids = {lang["id"]: lang["name"] for lang in languages}
        self.assertEqual(status, 200)
        for id_, prefix in ((71, "Python ("), (50, "C (GCC "), (54, "C++ (GCC "),
                            (62, "Java (OpenJDK "), (63, "JavaScript (Node.js "), (60, "Go ("),
                            (73, "Rust ("), (46, "Bash (")):
            self.assertTrue(ids[id_].startswith(prefix), ids)
        # every language served that has a Judge0 id, by its file's name for it
        for name, doc in samples.language_files().items():
            if "judge0" in doc and samples.unavailable(name) is None:
                self.assertEqual(ids.get(doc["judge0"]["id"]), doc["judge0"]["name"], name)
        self.assertEqual([lang["name"] for lang in languages],
                         sorted(lang["name"] for lang in languages))
        self.assertEqual(set(languages[0]), {"id", "name"})
        status, body = self.get("/languages/all")
        self.assertEqual(set(json.loads(body)[0]), {"id", "name", "is_archived"})
        status, body = self.get("/languages/71")
        python = json.loads(body)
        self.assertEqual((status, python["source_file"], python["compile_cmd"]),
                         (200, "main.py", None))
        self.assertTrue(python["run_cmd"].startswith("python3"), python)
        status, body = self.get("/languages/54")
        self.assertIn("main.cpp", json.loads(body)["compile_cmd"])
        for missing in ("/languages/999", "/languages/abc", "/languages/"):
            self.assertEqual(self.get(missing)[0], 404, missing)

    def test_statuses_about_and_version(self):
        status, body = self.get("/statuses")
        statuses = json.loads(body)
        self.assertEqual([s["id"] for s in statuses], list(range(1, 15)))
        self.assertEqual(statuses[2], {"id": 3, "description": "Accepted"})
        self.assertEqual(statuses[10]["description"], "Runtime Error (NZEC)")
        status, body = self.get("/about")
        self.assertEqual(json.loads(body)["version"], "1.13.1")
        self.assertEqual(self.get("/version"), (200, b"1.13.1"))


class Submit(Client, unittest.TestCase):
    """POST /submissions waited for or not, GET by token, fields, base64."""

    def test_wait_false_gives_a_token_then_polls_to_the_end(self):
        answer = self.submit({"source_code": "import time\ntime.sleep(0.5)\nprint('late')\n",
                              "language_id": PYTHON}, query="")
        self.assertEqual(set(answer), {"token"})
        self.assertRegex(answer["token"], UUID)
        seen = []
        done = self.until_done(answer["token"], query="", seen=seen)
        self.assertIn(seen[0], (1, 2), seen)
        self.assertEqual(seen, sorted(seen), seen)
        self.assertEqual(set(done), DEFAULT_FIELDS)
        self.assertEqual((done["status"], done["stdout"], done["token"]),
                         ({"id": 3, "description": "Accepted"}, "late\n", answer["token"]))
        # The same answer again, and fields=* while it is kept.
        self.assertEqual(self.show(answer["token"])["stdout"], "late\n")
        self.assertEqual(self.show(answer["token"], "fields=*")["status_id"], 3)
        # wait=anything but "true" does not wait.
        answer = self.submit({"source_code": "print(1)", "language_id": PYTHON},
                             query="wait=1")
        self.assertEqual(set(answer), {"token"})
        self.until_done(answer["token"])

    def test_wait_true_gives_the_default_fields(self):
        answer = self.submit({"source_code": "print('hi')", "language_id": PYTHON})
        self.assertEqual(set(answer), DEFAULT_FIELDS)
        self.assertRegex(answer["token"], UUID)
        self.assertEqual(answer["stdout"], "hi\n")
        self.assertEqual(answer["status"], {"id": 3, "description": "Accepted"})
        for key in ("stderr", "compile_output", "message"):
            self.assertIsNone(answer[key], key)
        self.assertRegex(answer["time"], DECIMAL)
        self.assertIsInstance(answer["memory"], int)
        self.assertEqual(self.show(answer["token"])["stdout"], "hi\n")

    def test_fields_named_and_every_field(self):
        answer = self.submit({"source_code": "print('f')", "language_id": PYTHON},
                             query="wait=true&fields=stdout,status_id,language_id")
        self.assertEqual(answer, {"stdout": "f\n", "status_id": 3, "language_id": PYTHON})
        token = self.submit({"source_code": "print(2)", "language_id": PYTHON},
                            query="wait=true&fields=token")["token"]
        self.assertEqual(self.show(token, "fields=token,stdout"), {"token": token,
                                                                   "stdout": "2\n"})
        answer = self.waited({"source_code": "import sys\nprint(sys.stdin.read().upper())",
                              "language_id": PYTHON, "stdin": "abc", "expected_output": "ABC"})
        self.assertEqual(list(answer), ALL_FIELDS)
        self.assertEqual(answer["source_code"], "import sys\nprint(sys.stdin.read().upper())")
        self.assertEqual((answer["stdin"], answer["expected_output"], answer["stdout"]),
                         ("abc", "ABC", "ABC\n"))
        self.assertEqual((answer["status_id"], answer["status"]),
                         (3, {"id": 3, "description": "Accepted"}))
        self.assertEqual(answer["language"]["id"], PYTHON)
        self.assertTrue(answer["language"]["name"].startswith("Python ("), answer)
        self.assertEqual(set(answer["language"]), {"id", "name"})
        # Judge0's defaults: decimals as strings, integers as integers.
        self.assertEqual((answer["cpu_time_limit"], answer["cpu_extra_time"],
                          answer["wall_time_limit"]), ("5.0", "1.0", "10.0"))
        self.assertEqual((answer["memory_limit"], answer["stack_limit"],
                          answer["max_processes_and_or_threads"], answer["max_file_size"],
                          answer["number_of_runs"]), (128000, 64000, 60, 1024, 1))
        for key in ("enable_per_process_and_thread_time_limit",
                    "enable_per_process_and_thread_memory_limit",
                    "redirect_stderr_to_stdout", "enable_network"):
            self.assertIs(answer[key], False, key)
        for key in ("compiler_options", "command_line_arguments", "callback_url",
                    "additional_files", "stderr", "compile_output", "message", "exit_signal"):
            self.assertIsNone(answer[key], key)
        self.assertEqual(answer["exit_code"], 0)
        self.assertRegex(answer["time"], DECIMAL)
        self.assertRegex(answer["wall_time"], DECIMAL)
        self.assertIsInstance(answer["memory"], int)
        self.assertRegex(answer["created_at"], ISO_TIME)
        self.assertRegex(answer["finished_at"], ISO_TIME)
        self.assertLessEqual(answer["created_at"], answer["finished_at"])
        # Given limits come back in Judge0's forms too.
        answer = self.waited({"source_code": "print(1)", "language_id": PYTHON,
                              "cpu_time_limit": 2.5, "cpu_extra_time": 0.5, "wall_time_limit": 4,
                              "memory_limit": 100000, "max_file_size": 64,
                              "command_line_arguments": "a b", "compiler_options": None},
                             fields="cpu_time_limit,cpu_extra_time,wall_time_limit,memory_limit,"
                                 "max_file_size,command_line_arguments,compiler_options")
        self.assertEqual(answer, {"cpu_time_limit": "2.5", "cpu_extra_time": "0.5",
                                  "wall_time_limit": "4.0", "memory_limit": 100000,
                                  "max_file_size": 64, "command_line_arguments": "a b",
                                  "compiler_options": None})

    def test_invalid_fields_are_400_with_judge0s_text(self):
        body = {"source_code": "print(1)", "language_id": PYTHON}
        code, answer, _ = self.call("POST", "/submissions?wait=true&fields=stdout,x,y", body)
        self.assertEqual((code, answer), (400, {"error": "invalid fields: [x, y]"}))
        token = self.submit(body, query="wait=true")["token"]
        code, answer, _ = self.call("GET", f"/submissions/{token}?fields=bogus")
        self.assertEqual((code, answer), (400, {"error": "invalid fields: [bogus]"}))
        code, answer, _ = self.call("GET", f"/submissions/batch?tokens={token}&fields=*,nope")
        self.assertEqual((code, answer), (400, {"error": "invalid fields: [nope]"}))
        code, answer, _ = self.call("GET", f"/submissions/{UNKNOWN}")
        self.assertEqual((code, answer), (404, b""))

    def test_base64_in_and_out(self):
        line = "0123456789" * 10
        source = f"import sys\ndata = sys.stdin.read()\nprint('{line}' * 10)\nprint(data[::-1])\n"
        answer = self.waited({"source_code": b64(source), "language_id": PYTHON,
                              "stdin": b64("olleh"), "expected_output": b64(line * 10 + "\nhello")},
                             fields="stdout,stdin,source_code,expected_output,status,message,"
                                    "stderr",
                             base64_encoded=True)
        self.assertEqual(answer["stdout"], ruby_base64(line * 10 + "\nhello\n"))
        self.assertTrue(all(len(row) <= 60 for row in answer["stdout"].split("\n")), answer)
        self.assertEqual(answer["stdin"], ruby_base64("olleh"))
        self.assertEqual(answer["source_code"], ruby_base64(source))
        self.assertEqual(answer["expected_output"], ruby_base64(line * 10 + "\nhello"))
        self.assertEqual((answer["status"]["id"], answer["message"], answer["stderr"]),
                         (3, None, None))
        # The same submission's texts without base64.
        # Ruby's decode64 is lenient: newlines (and Ruby's own line breaks) are fine.
        wrapped = b64("print('wrapped ok')\n")
        wrapped = "\n".join(wrapped[i:i + 8] for i in range(0, len(wrapped), 8)) + "\n"
        answer = self.waited({"source_code": wrapped, "language_id": PYTHON}, fields="stdout",
                             base64_encoded=True)
        self.assertEqual(answer["stdout"], ruby_base64("wrapped ok\n"))
        answer = self.waited({"source_code": ruby_base64("print('ruby ok')"),
                              "language_id": PYTHON}, fields="stdout,token", base64_encoded=True)
        self.assertEqual(answer["stdout"], ruby_base64("ruby ok\n"))
        self.assertEqual(self.show(answer["token"], "fields=stdout")["stdout"], "ruby ok\n")
        # A message is base64 too when asked (the serializer's message).
        answer = self.waited({"source_code": b64("raise SystemExit(4)"), "language_id": PYTHON},
                             fields="message,exit_code", base64_encoded=True)
        self.assertEqual(answer, {"message": ruby_base64("Exited with error status 4"),
                                  "exit_code": 4})

    def test_output_not_utf8(self):
        body = {"source_code": "import sys\nsys.stdout.buffer.write(b'ok\\xff\\xfe\\n')",
                "language_id": PYTHON}
        answer = self.submit(body, query="wait=true")
        self.assertEqual(set(answer), {"error", "token"})
        self.assertEqual(answer["error"], NOT_UTF8)
        self.assertRegex(answer["token"], UUID)
        token = answer["token"]
        code, answer, _ = self.call("GET", f"/submissions/{token}")
        self.assertEqual((code, answer), (400, {"error": NOT_UTF8}))
        code, answer, _ = self.call("GET", f"/submissions/{token}?base64_encoded=false")
        self.assertEqual((code, answer), (400, {"error": NOT_UTF8}))
        answer = self.show(token, "base64_encoded=true")
        self.assertEqual(answer["stdout"], ruby_base64(b"ok\xff\xfe\n"))
        # A field without the bad text is fine.
        self.assertEqual(self.show(token, "fields=status_id"), {"status_id": 3})
        # Judge0's batch_show has its own text.
        code, answer, _ = self.call("GET", f"/submissions/batch?tokens={token}")
        self.assertEqual((code, answer), (400, {"error": NOT_UTF8_BATCH}))
        # wait=false: the token, then the same 400 when polled.
        token = self.submit(body, query="")["token"]
        self.until_done(token, query="base64_encoded=true")


class Executables(Client, unittest.TestCase):
    """Plain Text (43) prints the source; Executable (44) runs the bytes
    sent, in base64, as a program: a binary built on this host, given its
    arguments and stdin."""

    def setUp(self):
        for language in ("plaintext", "executable"):
            if samples.unavailable(language):
                self.skipTest(samples.unavailable(language))

    def test_plain_text_is_printed_as_it_is(self):
        text = "  two lines,\n\tnot a program; $(id) `id`\n"
        answer = self.waited({"source_code": text, "language_id": 43,
                              "command_line_arguments": "a b"})
        self.assertEqual((answer["status_id"], answer["stdout"]), (3, text), answer)

    def test_a_binary_runs_with_its_arguments_and_input(self):
        source = ('#include <stdio.h>\nint main(int argc, char **argv) {\n'
                  '  int a, b;\n  if (scanf("%d %d", &a, &b) != 2) return 3;\n'
                  '  printf("%s %s %d\\n", argv[1], argv[2], a + b);\n  return 0;\n}\n')
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "sum.c"), "w") as f:
                f.write(source)
            subprocess.run(["gcc", "-O2", "-static", "-o", os.path.join(d, "sum"),
                            os.path.join(d, "sum.c")], check=True, timeout=120)
            with open(os.path.join(d, "sum"), "rb") as f:
                binary = f.read()
        self.assertEqual(binary[:4], b"\x7fELF")
        answer = self.waited({"source_code": base64.b64encode(binary).decode(),
                              "language_id": 44, "stdin": base64.b64encode(b"17 25\n").decode(),
                              "command_line_arguments": "x 'y z'"}, base64_encoded=True)
        self.assertEqual((answer["status_id"], base64.b64decode(answer["stdout"] or "")),
                         (3, b"x y z 42\n"), answer)
        answer = self.waited({"source_code": base64.b64encode(b"\x7fELF garbage").decode(),
                              "language_id": 44}, base64_encoded=True)
        self.assertNotEqual(answer["status_id"], 3, answer)


class Statuses(Client, unittest.TestCase):
    """Each of Judge0's statuses from a real program, with its message."""

    def check(self, body, want, message=None, **fields):
        answer = self.waited(body)
        self.assertEqual(answer["status"]["id"], want, answer)
        self.assertEqual(answer["status_id"], want, answer)
        self.assertEqual(answer["message"], message, answer)
        for key, want in fields.items():
            self.assertEqual(answer[key], want, (key, answer))
        return answer

    def test_accepted_and_wrong_answer_by_expected_output(self):
        source = "import sys\nsys.stdout.write(sys.stdin.read())"
        for out, expected, status in (
                ("hello\n", "hello", 3),
                ("hello", "hello\n\n\n", 3),
                ("a  \nb\t\n\n", "a\nb", 3),        # each line right-stripped
                ("a\r\nb\r\n", "a\nb", 3),          # \r is whitespace to rstrip
                ("a\n\nb", "a\nb", 4),              # an empty line inside counts
                ("hello", "Hello", 4),
                (" hello", "hello", 4),             # left whitespace counts
                ("1 2", "1  2", 4)):
            answer = self.waited({"source_code": source, "language_id": PYTHON, "stdin": out,
                                  "expected_output": expected}, fields="status,stdout,message")
            self.assertEqual(answer["status"]["id"], status, (out, expected, answer))
            self.assertEqual(answer["stdout"], out or None)
            self.assertIsNone(answer["message"])
        self.check({"source_code": "print('x')", "language_id": PYTHON, "expected_output": "y"},
                   4, status={"id": 4, "description": "Wrong Answer"})
        # No expected_output: Accepted whatever the output.
        self.check({"source_code": "print('x')", "language_id": PYTHON}, 3, exit_code=0)

    def test_time_limit_exceeded(self):
        answer = self.check({"source_code": "while True:\n    pass\n", "language_id": PYTHON,
                             "cpu_time_limit": 0.5, "cpu_extra_time": 0.5},
                            5, "Time limit exceeded",
                            status={"id": 5, "description": "Time Limit Exceeded"})
        self.assertEqual(answer["cpu_time_limit"], "0.5")
        # Over cpu_time_limit but within its cpu_extra_time: it ends on its
        # own, and is still Time Limit Exceeded (isolate's TO: its time is
        # over -t).
        source = ("import time\nstart = time.process_time()\n"
                  "while time.process_time() - start < 1.5:\n    pass\nprint('done')\n")
        self.check({"source_code": source, "language_id": PYTHON, "cpu_time_limit": 1,
                    "cpu_extra_time": 3}, 5, "Time limit exceeded", stdout="done\n")

    def test_compilation_error(self):
        answer = self.check({"source_code": "int main( { return 0; }", "language_id": C}, 6,
                            status={"id": 6, "description": "Compilation Error"})
        self.assertIn("error", answer["compile_output"])
        self.assertIn("main.c", answer["compile_output"])
        for key in ("stdout", "stderr", "time", "wall_time", "memory", "exit_code",
                    "exit_signal"):
            self.assertIsNone(answer[key], key)
        # A warning alone is no error: it runs, its compile output kept.
        answer = self.check({"source_code": "#warning careful\nint main(void) { return 0; }",
                             "language_id": C}, 3)
        self.assertIn("careful", answer["compile_output"])

    def test_runtime_errors_by_signal(self):
        self.check({"source_code": "int main(void) { volatile int *p = 0; *p = 1; return 0; }",
                    "language_id": C}, 7, "Caught fatal signal 11", exit_signal=11,
                   status={"id": 7, "description": "Runtime Error (SIGSEGV)"})
        # Integer division by zero (not 1/x, which gcc makes a comparison).
        self.check({"source_code": "int main(int argc, char **argv) { (void)argv;\n"
                                   "  return 10 / (argc - 1); }",
                    "language_id": C}, 9, "Caught fatal signal 8", exit_signal=8,
                   status={"id": 9, "description": "Runtime Error (SIGFPE)"})
        self.check({"source_code": "#include <stdlib.h>\nint main(void) { abort(); }",
                    "language_id": C}, 10, "Caught fatal signal 6", exit_signal=6,
                   status={"id": 10, "description": "Runtime Error (SIGABRT)"})

    def test_non_zero_exit_code(self):
        self.check({"source_code": "import sys\nprint('bye')\nsys.exit(3)", "language_id": PYTHON},
                   11, "Exited with error status 3", exit_code=3, exit_signal=None,
                   stdout="bye\n", status={"id": 11, "description": "Runtime Error (NZEC)"})
        answer = self.check({"source_code": "raise ValueError('boom')", "language_id": PYTHON},
                            11, "Exited with error status 1", exit_code=1)
        self.assertIn("ValueError: boom", answer["stderr"])

    def test_memory_limit_is_runtime_error_other(self):
        answer = self.waited({"source_code": "b = bytearray(300 << 20)\nprint(len(b))",
                              "language_id": PYTHON, "memory_limit": 64000})
        code, health, _ = self.call("GET", "/healthz")
        if health["limits"]["memory_by_cgroup"]:
            # Judge0's cgroup kills it (SIGKILL): Runtime Error (Other).
            self.assertEqual(answer["status"],
                             {"id": 12, "description": "Runtime Error (Other)"}, answer)
            self.assertIsInstance(answer["message"], str)
        else:
            # Without a memory cgroup the allocation fails in the program,
            # which ends on its own.
            self.assertEqual((answer["status"]["id"], answer["message"]),
                             (11, "Exited with error status 1"), answer)
            self.assertIn("MemoryError", answer["stderr"])
        self.assertIsNone(answer["stdout"])
        self.assertEqual(answer["memory_limit"], 64000)

    def test_output_over_max_file_size(self):
        answer = self.waited({"source_code": "import sys\nsys.stdout.write('x' * (3 << 20))",
                              "language_id": PYTHON, "max_file_size": 1024})
        self.assertEqual(answer["status"], {"id": 8, "description": "Runtime Error (SIGXFSZ)"},
                         answer["status"])
        self.assertIsInstance(answer["message"], str)
        self.assertLessEqual(len(answer["stdout"] or ""), 1024 * 1024)


class Options(Client, unittest.TestCase):
    """stdin, arguments, compiler options, stderr into stdout, runs, and each
    language at least once."""

    def test_stdin_with_bash(self):
        answer = self.waited({"source_code": "read a\nread b\necho \"bash $((a + b))\"\n",
                              "language_id": BASH, "stdin": "2\n40\n",
                              "expected_output": "bash 42"},
                             fields="stdout,status,language")
        self.assertEqual(answer["stdout"], "bash 42\n")
        self.assertEqual(answer["status"]["id"], 3, answer)
        self.assertTrue(answer["language"]["name"].startswith("Bash ("), answer)

    def test_cpp_with_expected_output(self):
        source = ("#include <iostream>\nint main() { long long a, b; std::cin >> a >> b;\n"
                  "  std::cout << a + b << std::endl; }\n")
        answer = self.waited({"source_code": source, "language_id": CPP, "stdin": "20 22",
                              "expected_output": "42\n"}, fields="stdout,status,language")
        self.assertEqual((answer["stdout"], answer["status"]["id"]), ("42\n", 3), answer)
        self.assertTrue(answer["language"]["name"].startswith("C++ (GCC "), answer)
        answer = self.waited({"source_code": source, "language_id": CPP, "stdin": "1 1",
                              "expected_output": "3"}, fields="stdout,status")
        self.assertEqual((answer["stdout"], answer["status"]["id"]), ("2\n", 4), answer)

    def test_java_with_arguments_and_stdin(self):
        source = ("import java.util.Scanner;\npublic class Main {\n"
                  "  public static void main(String[] args) {\n"
                  "    Scanner in = new Scanner(System.in);\n"
                  "    System.out.println(String.join(\"|\", args) + \" \" + in.nextInt() * 2);\n"
                  "  }\n}\n")
        answer = self.waited({"source_code": source, "language_id": JAVA, "stdin": "21",
                              "command_line_arguments": "one 'two words' three",
                              "memory_limit": 512000},
                             fields="stdout,stderr,status,compile_output,language")
        self.assertEqual(answer["stdout"], "one|two words|three 42\n", answer)
        self.assertEqual(answer["status"]["id"], 3, answer)
        self.assertEqual(answer["language"]["id"], JAVA)

    def test_java_at_its_default_limits(self):
        # A client sends no limits. Judge0's 128000 KB is too little for a
        # JVM where process limits set the memory (no memory cgroup): Java's
        # language file gives its submissions 512000 KB, and says so.
        answer = self.waited({"source_code": "public class Main { public static void "
                                             "main(String[] a) { System.out.println(\"hi\"); } }",
                              "language_id": JAVA}, fields="stdout,stderr,status,memory_limit")
        self.assertEqual((answer["stdout"], answer["status"]["id"], answer["memory_limit"]),
                         ("hi\n", 3, 512000), answer)
        # a limit the client gives is the limit
        answer = self.waited({"source_code": "public class Main { public static void "
                                             "main(String[] a) { System.out.println(\"hi\"); } }",
                              "language_id": JAVA, "memory_limit": 300000},
                             fields="status,memory_limit")
        self.assertEqual(answer["memory_limit"], 300000, answer)

    def test_command_line_arguments_as_judge0s_bash_reads_them(self):
        source = "import sys\nprint(repr(sys.argv[1:]))"
        for given, want in (
                ("a b  c", ["a", "b", "c"]),
                ("\"two words\" 'single $x' three", ["two words", "single x", "three"]),
                # Judge0 drops $ & ; < > | and ` before its script sees them.
                ("x$HOME y;z a&&b <in >out p|q `id`", ["xHOME", "yz", "ab", "in", "out",
                                                       "pq", "id"]),
                ("  lead trail  ", ["lead", "trail"]),
                ("back\\ slash", ["back slash"]),
                ("-x --flag=1 *", ["-x", "--flag=1", "*"])):  # no glob
            answer = self.waited({"source_code": source, "language_id": PYTHON,
                                  "command_line_arguments": given},
                                 fields="stdout,status,command_line_arguments")
            self.assertEqual(answer["stdout"], repr(want) + "\n", (given, answer))
            self.assertEqual(answer["command_line_arguments"], given)
        # In C too.
        answer = self.waited({"source_code": "#include <stdio.h>\nint main(int c, char **v) {\n"
                                          "  for (int i = 1; i < c; i++) printf(\"[%s]\", v[i]);\n"
                                          "  return 0; }\n",
                              "language_id": C, "command_line_arguments": "1 \"2 3\""},
                             fields="stdout")
        self.assertEqual(answer["stdout"], "[1][2 3]")

    def test_compiler_options(self):
        source = "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", X); return 0; }\n"
        answer = self.waited({"source_code": source, "language_id": C,
                              "compiler_options": "-DX=42 -O2"},
                             fields="stdout,status,compiler_options")
        self.assertEqual(answer, {"stdout": "42\n", "status": {"id": 3,
                                                               "description": "Accepted"},
                                  "compiler_options": "-DX=42 -O2"})
        answer = self.waited({"source_code": source, "language_id": C}, fields="status,stdout")
        self.assertEqual((answer["status"]["id"], answer["stdout"]), (6, None))
        errors = self.field_errors({"source_code": "print(1)", "language_id": PYTHON,
                                    "compiler_options": "-O2"})
        self.assertEqual(errors, {"compiler_options": [
            "setting compiler options is only allowed for compiled languages"]})
        errors = self.field_errors({"source_code": source, "language_id": C,
                                    "compiler_options": "-DX=1 " + "-O2 " * 200})
        self.assertEqual(errors, {"compiler_options": [
            "is too long (maximum is 512 characters)"]})
        errors = self.field_errors({"source_code": "print(1)", "language_id": PYTHON,
                                    "command_line_arguments": "a" * 513})
        self.assertEqual(errors, {"command_line_arguments": [
            "is too long (maximum is 512 characters)"]})

    def test_redirect_stderr_to_stdout_keeps_the_order(self):
        source = ("import sys\nfor i in range(3):\n"
                  "    print('out', i, flush=True)\n"
                  "    print('err', i, file=sys.stderr, flush=True)\n")
        answer = self.waited({"source_code": source, "language_id": PYTHON,
                              "redirect_stderr_to_stdout": True},
                             fields="stdout,stderr,redirect_stderr_to_stdout")
        self.assertEqual(answer, {"stdout": "out 0\nerr 0\nout 1\nerr 1\nout 2\nerr 2\n",
                                  "stderr": None, "redirect_stderr_to_stdout": True})
        answer = self.waited({"source_code": source, "language_id": PYTHON},
                             fields="stdout,stderr,redirect_stderr_to_stdout")
        self.assertEqual(answer, {"stdout": "out 0\nout 1\nout 2\n",
                                  "stderr": "err 0\nerr 1\nerr 2\n",
                                  "redirect_stderr_to_stdout": False})

    def test_number_of_runs(self):
        answer = self.waited({"source_code": "print('again')", "language_id": PYTHON,
                              "number_of_runs": 3},
                             fields="stdout,status,number_of_runs,time,memory")
        self.assertEqual((answer["stdout"], answer["status"]["id"], answer["number_of_runs"]),
                         ("again\n", 3, 3), answer)
        self.assertRegex(answer["time"], DECIMAL)
        self.assertIsInstance(answer["memory"], int)

    def test_numbers_and_booleans_as_strings_are_taken_as_rails_takes_them(self):
        answer = self.waited({"source_code": "import sys\nprint('o', flush=True)\n"
                                             "print('e', file=sys.stderr)",
                              "language_id": "71", "cpu_time_limit": "2", "memory_limit": "64000",
                              "number_of_runs": "1", "redirect_stderr_to_stdout": "true",
                              "wall_time_limit": "3.5"})
        self.assertEqual((answer["language_id"], answer["cpu_time_limit"],
                          answer["memory_limit"], answer["number_of_runs"],
                          answer["wall_time_limit"], answer["redirect_stderr_to_stdout"]),
                         (PYTHON, "2.0", 64000, 1, "3.5", True), answer)
        self.assertEqual((answer["stdout"], answer["status_id"]), ("o\ne\n", 3), answer)


class Validation(Client, unittest.TestCase):
    """Judge0's field errors (422, Rails' messages) and bad bodies."""

    def test_limits_out_of_bounds(self):
        base = {"source_code": "print(1)", "language_id": PYTHON}
        wrong = []
        for field, value, message in (
                ("memory_limit", 1, "must be greater than or equal to 2048"),
                ("memory_limit", 600000, "must be less than or equal to 512000"),
                ("cpu_time_limit", 100, "must be less than or equal to 15.0"),
                ("cpu_time_limit", -1, "must be greater than or equal to 0"),
                ("cpu_time_limit", "abc", "is not a number"),
                ("cpu_extra_time", 6, "must be less than or equal to 5.0"),
                ("wall_time_limit", 30, "must be less than or equal to 20.0"),
                ("wall_time_limit", 0.5, "must be greater than or equal to 1"),
                ("stack_limit", -1, "must be greater than or equal to 0"),
                ("stack_limit", 200000, "must be less than or equal to 128000"),
                ("max_processes_and_or_threads", 0, "must be greater than 0"),
                ("max_processes_and_or_threads", 121, "must be less than or equal to 120"),
                ("max_file_size", 5000, "must be less than or equal to 4096"),
                ("number_of_runs", 0, "must be greater than 0"),
                ("number_of_runs", 21, "must be less than or equal to 20"),
                ("cpu_extra_time", -0.5, "must be greater than or equal to 0"),
                ("max_file_size", -1, "must be greater than or equal to 0"),
                ("memory_limit", "lots", "is not a number")):
            # Rails writes the bound as config.rb gives it: 2048, 0 and 1
            # are Integers, Config::MAX_CPU_TIME_LIMIT a Float (15.0).
            got = self.field_errors({**base, field: value})
            wanted = {field: [message]}
            if got != wanted:
                wrong.append((field, value, got, wanted))
        self.assertEqual(wrong, [])
        # Several at once, each under its own field.
        errors = self.field_errors({**base, "memory_limit": 1, "cpu_time_limit": 100})
        self.assertEqual(errors, {"memory_limit": ["must be greater than or equal to 2048"],
                                  "cpu_time_limit": ["must be less than or equal to 15.0"]})

    def test_language_and_source(self):
        self.assertEqual(self.field_errors({"source_code": "x", "language_id": 9999}),
                         {"language_id": ["language with id 9999 doesn't exist"]})
        self.assertEqual(self.field_errors({"source_code": "x"}),
                         {"language_id": ["can't be blank", "language with id  doesn't exist"]})
        self.assertEqual(self.field_errors({"source_code": "x", "language_id": None}),
                         {"language_id": ["can't be blank", "language with id  doesn't exist"]})
        for blank in ("", "   \n\t", None):
            self.assertEqual(self.field_errors({"source_code": blank, "language_id": PYTHON}),
                             {"source_code": ["can't be blank"]}, repr(blank))
        self.assertEqual(self.field_errors({"language_id": PYTHON}),
                         {"source_code": ["can't be blank"]})
        errors = self.field_errors({})
        self.assertEqual(set(errors), {"source_code", "language_id"})

    def test_options_that_cannot_be_enabled(self):
        base = {"source_code": "print(1)", "language_id": PYTHON}
        self.assertEqual(self.field_errors({**base, "enable_network": True}),
                         {"enable_network": ["enabling network is not allowed"]})
        self.assertEqual(
            self.field_errors({**base, "enable_per_process_and_thread_time_limit": True}),
            {"enable_per_process_and_thread_time_limit": ["this option cannot be enabled"]})
        self.assertEqual(
            self.field_errors({**base, "enable_per_process_and_thread_memory_limit": True}),
            {"enable_per_process_and_thread_memory_limit": ["this option cannot be enabled"]})
        # false is fine.
        answer = self.waited({**base, "enable_network": False,
                              "enable_per_process_and_thread_time_limit": False},
                             fields="status_id,enable_network")
        self.assertEqual(answer, {"status_id": 3, "enable_network": False})

    def test_bodies_that_are_not_a_submission(self):
        for raw in (b"{not json", b"", b"\xff\xfe", b'{"source_code": "x", "language_id": 71'):
            code, answer, _ = self.call("POST", "/submissions", raw=raw)
            self.assertEqual(code, 400, (raw, answer))
            self.assertEqual(set(answer), {"error"}, raw)
            self.assertIsInstance(answer["error"], str)
        # Valid JSON but not an object: Rails puts it in params[:_json], so
        # the submission has no fields (422).
        for raw in (b"[1, 2]", b'"print(1)"', b"[]", b"42"):
            code, answer, _ = self.call("POST", "/submissions", raw=raw)
            self.assertEqual(code, 422, (raw, answer))
            self.assertIsInstance(answer, dict, raw)

    def test_wrong_types_never_crash(self):
        fields = ["source_code", "language_id", "compiler_options", "command_line_arguments",
                  "number_of_runs", "stdin", "expected_output", "cpu_time_limit",
                  "cpu_extra_time", "wall_time_limit", "memory_limit", "stack_limit",
                  "max_processes_and_or_threads", "enable_per_process_and_thread_time_limit",
                  "enable_per_process_and_thread_memory_limit", "max_file_size",
                  "redirect_stderr_to_stdout", "callback_url", "additional_files",
                  "enable_network"]
        values = [[], {}, [1, "a"], {"a": 1}, True, False, None, 1e308, -1e308, -1, 0,
                  2 ** 64, "", "abc", "1e400", "NaN", "\u0000", "x" * 5000, 3.7]
        for field in fields:
            for value in values:
                # No language (or a blank source): never runs, always refused.
                body = ({"source_code": "", field: value} if field == "language_id"
                        else {"source_code": "print(1)", field: value})
                code, answer, _ = self.call("POST", "/submissions", body)
                self.assertIn(code, (400, 422), (field, value, answer))
                self.assertIsInstance(answer, dict)
                if code == 400:  # 2 ** 64: not a number JSON parsers all take
                    self.assertEqual(list(answer), ["error"], (field, value, answer))
                    continue
                for key, messages in answer.items():
                    self.assertIsInstance(messages, list, (field, value, answer))
                    self.assertTrue(all(isinstance(m, str) for m in messages), answer)
        self.assertIsNone(self.server.proc.poll())
        code, answer, _ = self.call("GET", "/about")
        self.assertEqual(code, 200)


class Batch(Client, unittest.TestCase):
    """POST /submissions/batch and GET /submissions/batch?tokens=."""

    def wait_batch(self, tokens, query=""):
        deadline = time.monotonic() + 120
        while True:
            code, answer, _ = self.call(
                "GET", f"/submissions/batch?tokens={','.join(tokens)}&fields=status_id"
                       f"{query}")
            self.assertEqual(code, 200, answer)
            if all(s is None or s["status_id"] > 2 for s in answer["submissions"]):
                return
            self.assertLess(time.monotonic(), deadline, answer)
            time.sleep(0.1)

    def test_batch_with_good_and_bad_items(self):
        body = {"submissions": [
            {"source_code": "print('one')", "language_id": PYTHON},
            {"source_code": "print('two')", "language_id": 9999},
            {"source_code": "#include <stdio.h>\nint main(void) { puts(\"three\"); }",
             "language_id": C},
            {"language_id": PYTHON, "memory_limit": 1}]}
        # Judge0 ignores fields in batch_create (check_requested_fields
        # except: [:batch_create]).
        code, answer, _ = self.call("POST", "/submissions/batch?fields=bogus", body)
        self.assertEqual(code, 201, answer)
        self.assertEqual(len(answer), 4)
        self.assertEqual(set(answer[0]), {"token"})
        self.assertRegex(answer[0]["token"], UUID)
        self.assertEqual(answer[1], {"language_id": ["language with id 9999 doesn't exist"]})
        self.assertRegex(answer[2]["token"], UUID)
        self.assertEqual(answer[3], {"source_code": ["can't be blank"],
                                     "memory_limit": ["must be greater than or equal to 2048"]})
        tokens = [answer[0]["token"], answer[2]["token"], UNKNOWN]
        self.wait_batch(tokens)
        code, answer, _ = self.call("GET", f"/submissions/batch?tokens={','.join(tokens)}")
        self.assertEqual(code, 200, answer)
        self.assertEqual(set(answer), {"submissions"})
        one, three, missing = answer["submissions"]
        self.assertEqual(set(one), DEFAULT_FIELDS)
        self.assertEqual((one["stdout"], one["token"], one["status"]["id"]),
                         ("one\n", tokens[0], 3))
        self.assertEqual((three["stdout"], three["token"]), ("three\n", tokens[1]))
        self.assertIsNone(missing)
        code, answer, _ = self.call(
            "GET", f"/submissions/batch?tokens={','.join(tokens)},not-a-token"
                   "&fields=stdout,language_id&base64_encoded=true")
        self.assertEqual(code, 200, answer)
        self.assertEqual(answer["submissions"],
                         [{"stdout": ruby_base64("one\n"), "language_id": PYTHON},
                          {"stdout": ruby_base64("three\n"), "language_id": C}, None, None])

    def test_batch_in_base64(self):
        body = {"submissions": [{"source_code": b64("print(input()[::-1])"),
                                 "language_id": PYTHON, "stdin": b64("abc")}]}
        code, answer, _ = self.call("POST", "/submissions/batch?base64_encoded=true", body)
        self.assertEqual(code, 201, answer)
        token = answer[0]["token"]
        self.wait_batch([token])
        self.assertEqual(self.show(token, "fields=stdout,stdin"), {"stdout": "cba\n",
                                                                   "stdin": "abc"})

    def test_all_bad_is_422(self):
        body = {"submissions": [{"source_code": "x", "language_id": 9999},
                                {"source_code": "", "language_id": PYTHON}]}
        code, answer, _ = self.call("POST", "/submissions/batch", body)
        self.assertEqual((code, answer),
                         (422, [{"language_id": ["language with id 9999 doesn't exist"]},
                                {"source_code": ["can't be blank"]}]))

    def test_batch_sizes(self):
        least = "there should be at least one submission in a batch"
        most = "number of submissions in a batch should be less than or equal to 20"
        item = {"source_code": "print(1)", "language_id": 9999}
        for body, message in (({"submissions": []}, least), ({}, least),
                              ({"submissions": [item] * 21}, most)):
            code, answer, _ = self.call("POST", "/submissions/batch", body)
            self.assertEqual((code, answer), (400, {"error": message}), body)
        code, answer, _ = self.call("GET", "/submissions/batch?tokens=")
        self.assertEqual((code, answer), (400, {"error": least}))
        code, answer, _ = self.call("GET", "/submissions/batch")
        self.assertEqual((code, answer), (400, {"error": least}))
        code, answer, _ = self.call("GET", "/submissions/batch?tokens=" + ",".join([UNKNOWN] * 21))
        self.assertEqual((code, answer), (400, {"error": most}))
        code, answer, _ = self.call("GET", "/submissions/batch?tokens=" + ",".join([UNKNOWN] * 20))
        self.assertEqual((code, answer), (200, {"submissions": [None] * 20}))


class Delete(Client, unittest.TestCase):
    """DELETE /submissions/TOKEN."""

    def test_refused_while_running_then_answered_in_base64_and_gone(self):
        token = self.submit({"source_code": "import time\ntime.sleep(2)\nprint('slept')",
                             "language_id": PYTHON}, query="")["token"]
        code, answer, _ = self.call("DELETE", f"/submissions/{token}")
        self.assertEqual(code, 400, answer)
        self.assertRegex(answer["error"], r"^submission cannot be deleted because its status "
                                          r"is (1 \(In Queue\)|2 \(Processing\))$")
        self.until_done(token)
        code, answer, _ = self.call("DELETE", f"/submissions/{token}")
        self.assertEqual(code, 200, answer)
        self.assertEqual(set(answer), DEFAULT_FIELDS)
        self.assertEqual((answer["stdout"], answer["token"], answer["status"]["id"]),
                         (ruby_base64("slept\n"), token, 3))
        code, answer, _ = self.call("GET", f"/submissions/{token}")
        self.assertEqual((code, answer), (404, b""))
        code, answer, _ = self.call("DELETE", f"/submissions/{token}")
        self.assertEqual((code, answer), (404, b""))

    def test_delete_with_fields(self):
        token = self.submit({"source_code": "print('x')", "language_id": PYTHON})["token"]
        code, answer, _ = self.call("DELETE", f"/submissions/{token}?fields=stdout,status_id")
        self.assertEqual((code, answer), (200, {"stdout": ruby_base64("x\n"), "status_id": 3}))
        code, answer, _ = self.call("DELETE", f"/submissions/{UNKNOWN}")
        self.assertEqual((code, answer), (404, b""))


class CallbackListener:
    """An HTTP server on 127.0.0.1 that records what it is sent. FAIL: how
    many requests it drops (closed without an answer) first; STATUS: what
    it answers then."""

    def __init__(self, fail=0, status=200):
        self.requests = []
        self.fail = fail
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_PUT(self):
                self.handle_any("PUT")

            def do_POST(self):
                self.handle_any("POST")

            def handle_any(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                listener.requests.append((method, self.path, dict(self.headers), body))
                if len(listener.requests) <= listener.fail:
                    self.close_connection = True
                    return  # no answer at all: the client's read fails
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count, timeout=60):
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.requests

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Callbacks(Client, unittest.TestCase):
    """callback_url: a PUT of the default fields in base64 when it ends."""

    def test_a_put_of_the_default_fields_in_base64(self):
        listener = CallbackListener()
        try:
            token = self.submit({"source_code": "print('called back')", "language_id": PYTHON,
                                 "callback_url": listener.url + "/hook?id=7"}, query="")["token"]
            requests = listener.wait_for(1)
            self.assertEqual(len(requests), 1, requests)
            method, path, headers, body = requests[0]
            self.assertEqual((method, path), ("PUT", "/hook?id=7"))
            self.assertEqual(headers.get("Content-Type"), "application/json")
            answer = json.loads(body)
            self.assertEqual(set(answer), DEFAULT_FIELDS)
            self.assertEqual((answer["token"], answer["stdout"], answer["status"]),
                             (token, ruby_base64("called back\n"),
                              {"id": 3, "description": "Accepted"}))
            self.assertIsNone(answer["stderr"])
            self.assertEqual(self.show(token, "fields=callback_url")["callback_url"],
                             listener.url + "/hook?id=7")
            # A run that fails: its message in base64 too.
            token = self.submit({"source_code": "raise SystemExit(2)", "language_id": PYTHON,
                                 "callback_url": listener.url + "/2"})["token"]
            requests = listener.wait_for(2)
            answer = json.loads(requests[1][3])
            self.assertEqual((answer["token"], answer["status"]["id"], answer["message"]),
                             (token, 11, ruby_base64("Exited with error status 2")))
        finally:
            listener.close()

    def test_three_tries_when_the_listener_fails(self):
        # HTTParty raises when the connection closes without an answer, and
        # isolate_job.rb's call_callback tries again, CALLBACKS_MAX_TRIES (3)
        # times in all.
        listener = CallbackListener(fail=2)
        try:
            self.submit({"source_code": "print(3)", "language_id": PYTHON,
                         "callback_url": listener.url + "/retry"}, query="")
            requests = listener.wait_for(3)
            self.assertEqual(len(requests), 3, requests)
            self.assertEqual(len({r[3] for r in requests}), 1)
            time.sleep(2.5)
            self.assertEqual(len(listener.requests), 3)
        finally:
            listener.close()
        # An answer that is not an error ends it: one try.
        listener = CallbackListener(status=404)
        try:
            self.submit({"source_code": "print(4)", "language_id": PYTHON,
                         "callback_url": listener.url + "/once"}, query="")
            self.assertEqual(len(listener.wait_for(1)), 1)
            time.sleep(2.5)
            self.assertEqual(len(listener.requests), 1)
        finally:
            listener.close()

    def test_a_url_that_is_not_http_is_refused(self):
        for url in ("https://127.0.0.1/x", "ftp://127.0.0.1/x", "127.0.0.1:80/x", "hook"):
            errors = self.field_errors({"source_code": "print(1)", "language_id": PYTHON,
                                        "callback_url": url})
            self.assertEqual(list(errors), ["callback_url"], url)
            self.assertIsInstance(errors["callback_url"][0], str)


class AdditionalFiles(Client, unittest.TestCase):
    """additional_files: a zip unpacked beside the source."""

    def test_a_helper_module_and_a_data_file(self):
        files = zip_of([("helper.py", "def answer():\n    return 42\n"),
                        ("data/words.txt", "alpha\nbeta\n")])
        source = ("import helper\nwords = open('data/words.txt').read().split()\n"
                  "print(helper.answer(), words)\n")
        answer = self.waited({"source_code": source, "language_id": PYTHON,
                              "additional_files": files},
                             fields="stdout,stderr,status,additional_files")
        self.assertEqual(answer["stdout"], "42 ['alpha', 'beta']\n", answer)
        self.assertEqual(answer["status"]["id"], 3)
        # The serializer gives additional_files back in Ruby's base64.
        self.assertEqual(answer["additional_files"], ruby_base64(base64.b64decode(files)))
        # In C: a header in a subdirectory, compiled with the source.
        files = zip_of([("lib/answer.h", "#define ANSWER 42\n")], zipfile.ZIP_STORED)
        answer = self.waited({"source_code": "#include <stdio.h>\n#include \"lib/answer.h\"\n"
                                          "int main(void) { printf(\"%d\\n\", ANSWER); }\n",
                              "language_id": C, "additional_files": files},
                             fields="stdout,compile_output,status")
        self.assertEqual((answer["stdout"], answer["status"]["id"]), ("42\n", 3), answer)

    def test_the_source_wins_over_a_file_of_its_name(self):
        files = zip_of([("main.py", "print('from the zip')\n"), ("other.txt", "x")])
        answer = self.waited({"source_code": "print('from the source')", "language_id": PYTHON,
                              "additional_files": files}, fields="stdout")
        self.assertEqual(answer["stdout"], "from the source\n")

    def test_hostile_archives_are_refused(self):
        link = zipfile.ZipInfo("link")
        link.create_system = 3
        link.external_attr = 0o120777 << 16
        cases = {"dot-dot": zip_of([("../x", "a")]),
                 "deep dot-dot": zip_of([("a/../../x", "a")]),
                 "absolute": zip_of([("/etc/x", "a")]),
                 "symlink": zip_of([(link, "/etc/passwd")]),
                 "bomb": zip_of([("zeros", b"\0" * (50 << 20))]),
                 "not a zip": b64(b"this is not a zip file at all"),
                 "truncated": zip_of([("a.txt", "x" * 1000)])[:40]}
        for name, files in cases.items():
            errors = self.field_errors({"source_code": "print(1)", "language_id": PYTHON,
                                        "additional_files": files})
            self.assertEqual(list(errors), ["additional_files"], (name, errors))
            self.assertTrue(errors["additional_files"]
                            and all(isinstance(m, str) for m in errors["additional_files"]),
                            (name, errors))
        self.assertIsNone(self.server.proc.poll())


class Operations(Client, unittest.TestCase):
    """/config_info, /system_info, /workers; the server's own API and counters
    beside Judge0's."""

    def test_config_info_has_judge0s_keys(self):
        code, info, _ = self.call("GET", "/config_info")
        self.assertEqual(code, 200, info)
        self.assertEqual(set(info), CONFIG_INFO_KEYS,
                         (set(info) - CONFIG_INFO_KEYS, CONFIG_INFO_KEYS - set(info)))
        self.assertEqual((info["max_cpu_time_limit"], info["memory_limit"],
                          info["max_submission_batch_size"], info["callbacks_max_tries"]),
                         (15.0, 128000, 20, 3))
        self.assertIs(info["enable_wait_result"], True)
        self.assertIsInstance(info["allowed_languages_for_compile_options"], list)

    def test_system_info_and_workers(self):
        code, info, _ = self.call("GET", "/system_info")
        self.assertEqual(code, 200, info)
        self.assertIsInstance(info, dict)
        self.assertTrue(info)
        code, workers, _ = self.call("GET", "/workers")
        self.assertEqual(code, 200, workers)
        self.assertIsInstance(workers, list)
        self.assertTrue(workers)
        for worker in workers:
            self.assertEqual(set(worker), {"queue", "size", "available", "idle", "working",
                                           "paused", "failed"}, worker)
            self.assertIsInstance(worker["queue"], str)
            for key in ("size", "available", "idle", "working", "paused", "failed"):
                self.assertIsInstance(worker[key], int, worker)

    def metrics(self):
        with urllib.request.urlopen(self.server.url + "/metrics", timeout=30) as r:
            text = r.read().decode()
        total = 0
        for line in text.splitlines():
            if line.startswith('sandpool_jobs_total{language="python"'):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def test_api_v1_beside_and_judge0_jobs_counted(self):
        code, answer, _ = self.call("POST", "/api/v1/run",
                                    {"language": "python", "code": "print('v1')"})
        self.assertEqual(code, 200, answer)
        self.assertEqual((answer["status"], answer["run"]["stdout"]), ("ok", "v1\n"), answer)
        before = self.metrics()
        code, health, _ = self.call("GET", "/healthz")
        done = health["jobs_done"]
        self.submit({"source_code": "print('counted')", "language_id": PYTHON})
        deadline = time.monotonic() + 30
        while self.metrics() < before + 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertGreaterEqual(self.metrics(), before + 1)
        code, health, _ = self.call("GET", "/healthz")
        self.assertGreaterEqual(health["jobs_done"], done + 1, health)


class Tokens(Client, unittest.TestCase):
    """A server with tokens: every Judge0 path needs one; X-Auth-User for
    DELETE; a submission is its token's."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server({"pool_total": 0, "pool_sizes": {"python": 1},
                             "tokens": [TOKEN, OTHER]})
        cls.headers = {"X-Auth-Token": TOKEN}

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        assert code == 0, f"sandpool serve exited {code}"

    def test_every_path_needs_a_token(self):
        body = {"source_code": "print(1)", "language_id": PYTHON}
        for method, path, payload in (
                ("POST", "/submissions", body), ("POST", "/submissions?wait=true", body),
                ("GET", f"/submissions/{UNKNOWN}", None),
                ("DELETE", f"/submissions/{UNKNOWN}", None),
                ("POST", "/submissions/batch", {"submissions": [body]}),
                ("GET", f"/submissions/batch?tokens={UNKNOWN}", None),
                ("GET", "/config_info", None), ("GET", "/system_info", None),
                ("GET", "/workers", None), ("GET", "/languages", None),
                ("GET", "/statuses", None), ("GET", "/about", None), ("GET", "/version", None),
                ("POST", "/authenticate", None)):
            for headers in ({}, {"X-Auth-Token": "nope"}, {"Authorization": "Bearer nope"}):
                code, answer, _ = self.call(method, path, payload, headers=headers)
                self.assertEqual((code, answer), (401, b""), (method, path, headers))
        code, answer, _ = self.call("POST", "/authenticate", headers={"X-Auth-Token": TOKEN})
        self.assertEqual(code, 200)
        code, answer, _ = self.call("GET", f"/config_info?X-Auth-Token={TOKEN}", headers={})
        self.assertEqual(code, 200)

    def test_a_submission_is_its_tokens(self):
        token = self.submit({"source_code": "print('mine')", "language_id": PYTHON})["token"]
        for headers, path in (({"X-Auth-Token": TOKEN}, f"/submissions/{token}"),
                              ({"Authorization": f"Bearer {TOKEN}"}, f"/submissions/{token}"),
                              ({}, f"/submissions/{token}?X-Auth-Token={TOKEN}")):
            code, answer, _ = self.call("GET", path, headers=headers)
            self.assertEqual((code, answer["stdout"]), (200, "mine\n"), headers)
        code, answer, _ = self.call("GET", f"/submissions/{token}",
                                    headers={"X-Auth-Token": OTHER})
        self.assertEqual((code, answer), (404, b""))
        code, answer, _ = self.call("GET", f"/submissions/batch?tokens={token}",
                                    headers={"X-Auth-Token": OTHER})
        self.assertEqual((code, answer), (200, {"submissions": [None]}))
        code, answer, _ = self.call("DELETE", f"/submissions/{token}",
                                    headers={"X-Auth-Token": OTHER, "X-Auth-User": OTHER})
        self.assertEqual((code, answer), (404, b""))
        # With Bearer, a submission made by header.
        code, answer, _ = self.call("POST", "/submissions?wait=true",
                                    {"source_code": "print('bearer')", "language_id": PYTHON},
                                    headers={"Authorization": f"Bearer {OTHER}"})
        self.assertEqual((code, answer["stdout"]), (201, "bearer\n"), answer)
        code, _, _ = self.call("GET", f"/submissions/{answer['token']}",
                               headers={"X-Auth-Token": OTHER})
        self.assertEqual(code, 200)

    def test_delete_needs_x_auth_user(self):
        token = self.submit({"source_code": "print('d')", "language_id": PYTHON})["token"]
        for headers in ({"X-Auth-Token": TOKEN},
                        {"X-Auth-Token": TOKEN, "X-Auth-User": "not-a-token"}):
            code, answer, _ = self.call("DELETE", f"/submissions/{token}", headers=headers)
            self.assertEqual((code, answer), (403, b""), headers)
        self.assertEqual(self.show(token)["stdout"], "d\n")
        code, answer, _ = self.call("DELETE", f"/submissions/{token}",
                                    headers={"X-Auth-Token": TOKEN, "X-Auth-User": TOKEN})
        self.assertEqual((code, answer["stdout"]), (200, ruby_base64("d\n")), answer)
        code, answer, _ = self.call("GET", f"/submissions/{token}")
        self.assertEqual(code, 404)
        # X-Auth-User in the query, as Judge0 reads it (headers or params).
        token = self.submit({"source_code": "print('q')", "language_id": PYTHON})["token"]
        code, answer, _ = self.call("DELETE", f"/submissions/{token}?X-Auth-User={OTHER}")
        self.assertEqual(code, 200, answer)
        code, _, _ = self.call("POST", "/authorize", headers={"X-Auth-Token": TOKEN})
        self.assertEqual(code, 403)
        code, _, _ = self.call("POST", "/authorize",
                               headers={"X-Auth-Token": TOKEN, "X-Auth-User": TOKEN})
        self.assertEqual(code, 200)


if __name__ == "__main__":
    unittest.main()
