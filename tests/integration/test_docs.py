"""Every example of the documentation runs as written.

README.md and server/README.md show the API with ```sh blocks that call
curl on localhost:8080 (or talk to 127.0.0.1:8080 otherwise, as the
WebSocket example does). Each such block runs here, with `sh -e`, against a
real `sandpool serve`, its port rewritten to the test server's: it must
exit 0 and print JSON, and no answer may be an error unless the document
shows one. Where the document shows the answer right after the block (a
```json block, blank lines between at most), every key it shows must be in
the real answer, nested objects and arrays too, with a value of the same
JSON type; a value written `…` or `...` (or a string holding one) is
elided, and so are elements and members written that way.

Environment (set by tools/run-tests):
  SANDPOOL_BIN        the sandpool binary
  SANDPOOL_STATE_DIR  the image store holding the default images
  SANDPOOL_DOCS       the top of a tree holding README.md and
                      server/README.md (default: this checkout's)
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.request

from test_server import Server

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS_DIR = os.environ.get("SANDPOOL_DOCS") or os.path.dirname(os.path.dirname(HERE))
DOCS = ("README.md", "server/README.md")

# Blocks not run, by a piece of their text, each with its reason. Keep it
# small: an example that needs state should make it itself (a job id from
# `jq -r .id`, say), not be listed here.
SKIP = {}

# The port a document's examples use, on the hosts they name.
DOC_PORT = re.compile(r"\b(localhost|127\.0\.0\.1):8080\b")
FENCE = re.compile(r"^(\s*)```(\w*)\s*$")
ELLIPSIS = r"(?:\.\.\.|…)"
ELIDED = object()


def blocks(text):
    """The fenced blocks of a markdown text: (lang, body, first line, last line),
    each body dedented by its fence's indentation."""
    out = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, lang, start = len(m.group(1)), m.group(2), i
        body = []
        i += 1
        while i < len(lines) and not re.match(r"^\s*```\s*$", lines[i]):
            body.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i])
            i += 1
        out.append((lang, "\n".join(body) + "\n", start + 1, i + 1))
        i += 1
    return out


def examples(doc):
    """The examples of DOC that talk to the server on port 8080, each with the
    answer the document shows right after it (or None)."""
    with open(os.path.join(DOCS_DIR, doc)) as f:
        text = f.read()
    lines = text.split("\n")
    found = []
    all_blocks = blocks(text)
    for n, (lang, body, first, last) in enumerate(all_blocks):
        if lang != "sh" or not DOC_PORT.search(body):
            continue
        answer = None
        if n + 1 < len(all_blocks):
            nlang, nbody, nfirst, _ = all_blocks[n + 1]
            between = lines[last:nfirst - 1]
            if nlang == "json" and all(not line.strip() for line in between):
                answer = (nbody, nfirst)
        found.append((first, body, answer))
    return found


def json_values(text):
    """The JSON values printed one after another in TEXT."""
    decoder = json.JSONDecoder()
    values, i = [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i == len(text):
            return values
        value, i = decoder.raw_decode(text, i)
        values.append(value)


def shown_values(text):
    """The values of a ```json block, with its elisions: `, …}` and `[…, `
    drop a member or an element, a bare `…` value is ELIDED."""
    text = re.sub(r":\s*" + ELLIPSIS + r"\s*(?=[,}\]])", ': "…"', text)
    text = re.sub(r",\s*" + ELLIPSIS + r"\s*(?=[}\]])", "", text)
    text = re.sub(r"(?<=[\[{])\s*" + ELLIPSIS + r"\s*,", "", text)
    text = re.sub(r",\s*" + ELLIPSIS + r"\s*,", ",", text)
    return [elide(v) for v in json_values(text)]


def elide(value):
    if isinstance(value, dict):
        return {k: elide(v) for k, v in value.items()}
    if isinstance(value, list):
        return [elide(v) for v in value]
    if isinstance(value, str) and ("…" in value or "..." in value):
        return ELIDED
    return value


def json_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(value)]


def shape_errors(shown, real, path="$"):
    """Where REAL lacks a key SHOWN has, or holds another type of value."""
    if shown is ELIDED:
        return []
    if json_type(shown) != json_type(real):
        return [f"{path}: shown {json_type(shown)}, got {json_type(real)} {json.dumps(real)[:200]}"]
    errors = []
    if isinstance(shown, dict):
        for key, value in shown.items():
            if key not in real:
                errors.append(f"{path}.{key}: missing (got keys {sorted(real)})")
            else:
                errors += shape_errors(value, real[key], f"{path}.{key}")
    elif isinstance(shown, list):
        if len(real) < len(shown):
            errors.append(f"{path}: shown {len(shown)} elements, got {len(real)}")
        for i, (s, r) in enumerate(zip(shown, real)):
            errors += shape_errors(s, r, f"{path}[{i}]")
    return errors


def has_error(value):
    return isinstance(value, dict) and "error" in value


class Docs(unittest.TestCase):
    server = None
    languages = None

    @classmethod
    def setUpClass(cls):
        # problems stored by the examples: in a folder of this run's user (the
        # state directory may be another's, read-only to it)
        cls.problems = tempfile.mkdtemp(prefix="sandpool-docs-problems-")
        os.chmod(cls.problems, 0o755)
        cls.server = Server({"pool_total": 8, "problems_dir": f"{cls.problems}/store"})
        with urllib.request.urlopen(cls.server.url + "/api/v1/languages", timeout=30) as r:
            served = json.loads(r.read())
        cls.languages = {name for lang in served
                         for name in [lang["name"], *lang.get("aliases", [])]}

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        shutil.rmtree(cls.problems, ignore_errors=True)
        assert code == 0, f"sandpool serve exited {code}"

    def test_examples_are_found(self):
        for doc, least in (("README.md", 4), ("server/README.md", 5)):
            with self.subTest(doc=doc):
                found = examples(doc)
                self.assertGreaterEqual(len(found), least, f"{doc}: {len(found)} examples")
                self.assertTrue(any(answer for _, _, answer in found),
                                f"{doc}: no example shows its answer")

    def test_elisions_are_read(self):
        shown = shown_values('{"a":1,"b":{"c":2,...},"d":[{"e":3},…],"f":"3f0c…",'
                             '"g":…}\n{"h":null}')
        self.assertEqual(len(shown), 2)
        self.assertEqual(shown[0]["b"], {"c": 2})
        self.assertEqual(shown[0]["d"], [{"e": 3}])
        self.assertIs(shown[0]["f"], ELIDED)
        self.assertIs(shown[0]["g"], ELIDED)
        self.assertEqual(shape_errors(shown[0], {"a": 5, "b": {"c": 1, "x": 0},
                                                 "d": [{"e": 1}, {}], "f": "x", "g": [1]}), [])
        self.assertEqual(len(shape_errors(shown[0], {"a": "5", "b": {}, "d": [], "f": 1})), 4)

    def run_example(self, doc, line, body, answer):
        for piece, reason in SKIP.items():
            if piece in body:
                self.skipTest(reason)
        for language in re.findall(r'"language":\s*"([^"]+)"', body):
            if language not in self.languages:
                self.skipTest(f"the test server has no {language} (no image for it)")
        script = DOC_PORT.sub(lambda m: f"{m.group(1)}:{self.server.port}", body)
        # the python3 of the tests first: it has what the examples import
        env = dict(os.environ, PATH=os.path.dirname(sys.executable) + ":" +
                   os.environ.get("PATH", "/usr/bin:/bin"))
        where = f"{doc}:{line}"
        done = subprocess.run(["sh", "-e", "-c", script], capture_output=True, text=True,
                              timeout=300, env=env, cwd=DOCS_DIR)
        self.assertEqual(done.returncode, 0,
                         f"{where} exited {done.returncode}:\n{script}\n"
                         f"stdout: {done.stdout[-2000:]}\nstderr: {done.stderr[-2000:]}")
        try:
            real = json_values(done.stdout)
        except ValueError as e:
            self.fail(f"{where}: not JSON ({e}):\n{done.stdout[:2000]}")
        self.assertTrue(real, f"{where}: printed nothing")
        shown = None
        if answer is not None:
            try:
                shown = shown_values(answer[0])
            except ValueError as e:
                self.fail(f"{doc}:{answer[1]}: the answer shown is not JSON ({e})")
            self.assertLessEqual(len(shown), len(real),
                                 f"{where}: shows {len(shown)} answers, got {len(real)}")
        errors_shown = shown is not None and any(has_error(v) for v in shown)
        if not errors_shown:
            for value in real:
                self.assertFalse(has_error(value), f"{where}: {json.dumps(value)[:500]}")
        if shown:
            problems = []
            for s, r in zip(shown, real[len(real) - len(shown):]):
                problems += shape_errors(s, r)
            self.assertEqual(problems, [], f"{where} against its answer at {doc}:{answer[1]}:\n"
                             f"{done.stdout[:3000]}")


def _add_example_tests():
    """A test per example, named after its document and line, in order."""
    for doc in DOCS:
        if not os.path.exists(os.path.join(DOCS_DIR, doc)):
            def missing(self, doc=doc):
                self.fail(f"{doc} not found in {DOCS_DIR} (set SANDPOOL_DOCS)")
            setattr(Docs, f"test_{re.sub(r'[^a-z0-9]+', '_', doc.lower())}_exists", missing)
            continue
        for line, body, answer in examples(doc):
            name = f"test_{re.sub(r'[^a-z0-9]+', '_', doc.lower())}_line_{line:04d}"

            def run(self, doc=doc, line=line, body=body, answer=answer):
                self.run_example(doc, line, body, answer)
            run.__doc__ = f"{doc}:{line}"
            setattr(Docs, name, run)


_add_example_tests()


if __name__ == "__main__":
    unittest.main()
