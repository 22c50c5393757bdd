"""Judge0 CE's API (1.13.1) at its own paths, as its clients call it: the
languages with Judge0's ids, the statuses, about and version; its
authentication with X-Auth-Token (a header or the query) beside
Authorization: Bearer, and 401 with an empty body without a token."""

import json
import unittest
import urllib.error
import urllib.request

from test_server import Server

TOKEN = "judge0-token-0123456789abcdef"


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


if __name__ == "__main__":
    unittest.main()
