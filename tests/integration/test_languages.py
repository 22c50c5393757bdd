"""Every default language compiles (when it does) and runs its samples.

The languages are the folders of the samples (samples.py); one whose image
is not in the store is skipped, and says so.

Environment (set by tools/run-tests):
  SANDPOOL_BIN        the sandpool binary
  SANDPOOL_STATE_DIR  the image store holding the default images
  SANDPOOL_LANGUAGES  tests/languages (the samples)
  SANDPOOL_ID_MAP     auto or single
"""

import concurrent.futures
import json
import os
import subprocess
import tempfile
import unittest

import samples
from samples import BIN, STATE

ID_MAP = os.environ.get("SANDPOOL_ID_MAP", "auto")
LANGUAGES = samples.languages()
sample = samples.sample_path


def read(language, name):
    with open(os.path.join(samples.SAMPLES, language, name)) as f:
        return f.read()


def expected(language, kind):
    return read(language, kind + ".out")


def run_language(language, source, stdin=None, program_args=()):
    args = [BIN, "run", "--id-map", ID_MAP, "--language", language, "--source", source]
    if STATE:
        args += ["--state-dir", STATE]
    with tempfile.NamedTemporaryFile("w", suffix=".in") as f:
        if stdin is not None:
            f.write(stdin)
            f.flush()
            os.chmod(f.name, 0o644)
            args += ["--stdin", f.name]
        if program_args:
            args += ["--", *program_args]
        proc = subprocess.run(args, capture_output=True, timeout=300)
    if proc.returncode != 0:
        raise AssertionError(f"sandpool exited {proc.returncode}: {proc.stderr.decode()}"
                             f" {proc.stdout.decode()}")
    return json.loads(proc.stdout)


def run_sample(case):
    """Run sample KIND of LANGUAGE, its stdin from KIND.in when there is one:
    (why it cannot run, or None; the answer, or the error raised)."""
    language, kind = case
    why = samples.unavailable(language) or samples.skipped(language, kind)
    if why:
        return why, None
    stdin_file = os.path.join(samples.SAMPLES, language, kind + ".in")
    stdin = read(language, kind + ".in") if os.path.exists(stdin_file) else None
    try:
        return None, run_language(language, sample(language, kind), stdin)
    except AssertionError as e:
        return None, e


class Languages(unittest.TestCase):
    def check_all(self, kind):
        """Sample KIND of every language through `sandpool run`, two at once."""
        cases = [(language, kind) for language in LANGUAGES]
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            results = list(pool.map(run_sample, cases))
        for (language, _), (why, r) in zip(cases, results):
            with self.subTest(language=language):
                if why:
                    self.skipTest(why)
                if isinstance(r, AssertionError):
                    raise r
                detail = json.dumps(r, indent=1)[:3000]
                self.assertEqual(r["status"], "ok", detail)
                self.assertEqual(r["stdout"], expected(language, kind), detail)
                self.assertEqual(r["language"], language)
                self.assertEqual(r["run"]["exit_code"], 0, detail)

    def test_hello(self):
        self.check_all("hello")

    # the sum sample (stdin) and the args sample of every language run
    # through the HTTP API (test_server.Api), where they are warm

    def test_every_language_has_its_file_and_samples(self):
        files = samples.language_files()
        self.assertEqual(set(LANGUAGES), set(files), "languages/ and tests/languages/")
        for language in LANGUAGES:
            with self.subTest(language=language):
                ext = files[language]["source"].rsplit(".", 1)[-1]
                for kind in ("hello", "sum", "args"):
                    if not samples.skipped(language, kind):
                        self.assertTrue(sample(language, kind).endswith("." + ext), kind)
                wanted = ["hello.out"] + ([] if samples.skipped(language, "sum")
                                          else ["sum.in", "sum.out"])
                for name in wanted:
                    self.assertTrue(os.path.exists(os.path.join(samples.SAMPLES, language, name)),
                                    name)

    def test_args_after_the_double_dash_reach_the_program(self):
        args = ["a b", "", "$(id)", "-x", "h\u00e9"]
        want = "".join(f"{len(a.encode())}:{a}\n" for a in args)
        for language in ("python", "java", "bash"):
            with self.subTest(language=language):
                if samples.unavailable(language):
                    self.skipTest(samples.unavailable(language))
                r = run_language(language, sample(language, "args"), program_args=args)
                self.assertEqual((r["status"], r["stdout"]), ("ok", want), r)

    def test_a_java_class_not_called_main(self):
        if samples.unavailable("java"):
            self.skipTest(samples.unavailable("java"))
        with tempfile.TemporaryDirectory() as d:
            os.chmod(d, 0o755)
            path = os.path.join(d, "whatever.java")
            with open(path, "w") as f:
                f.write("package a.b;\npublic class Greeting {\n  public static void main("
                        "String[] x) { System.out.println(Greeting.class.getName()); }\n}\n")
            os.chmod(path, 0o644)
            r = run_language("java", path)
        self.assertEqual((r["status"], r["stdout"]), ("ok", "a.b.Greeting\n"), r)

    def test_compile_error(self):
        if samples.unavailable("c"):
            self.skipTest(samples.unavailable("c"))
        with tempfile.TemporaryDirectory() as d:
            os.chmod(d, 0o755)
            path = os.path.join(d, "broken.c")
            with open(path, "w") as f:
                f.write("int main(void) { return nope; }\n")
            os.chmod(path, 0o644)
            r = run_language("c", path)
        self.assertEqual(r["status"], "compile_error", r)
        self.assertIn("nope", r["compile"]["stderr"])
        self.assertIsNone(r["run"])

    def test_unknown_language(self):
        proc = subprocess.run([BIN, "run", "--language", "no-such-language", "--source",
                               os.path.abspath(__file__)], capture_output=True)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("unknown language 'no-such-language'", proc.stderr.decode())


if __name__ == "__main__":
    unittest.main()
