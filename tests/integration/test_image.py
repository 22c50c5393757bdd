"""Integration tests of `sandpool image`: import from OCI layouts, OCI
archives and docker save tarballs, the image store, and hostile sources.

Environment (set by tools/run-tests):
  SANDPOOL_BIN     the sandpool binary
  SANDPOOL_ID_MAP  auto or single: passed as --id-map to `sandpool run`
"""

import io
import json
import os
import shutil
import socket
import stat
import subprocess
import tarfile
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import make_layouts as ml

BIN = os.environ.get("SANDPOOL_BIN", "./sandpool")
ID_MAP = os.environ.get("SANDPOOL_ID_MAP", "auto")


def sandpool(*args, timeout=120, env=None):
    """Run sandpool; return (exit status, stdout, stderr)."""
    try:
        proc = subprocess.run([BIN, *args], capture_output=True, stdin=subprocess.DEVNULL,
                              timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"sandpool {' '.join(args)} hung for {timeout} s")
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


class ImageCase(unittest.TestCase):
    """Each test gets BASE with a state directory, a source directory and a
    canary directory that nothing may touch."""

    def setUp(self):
        self.base = tempfile.mkdtemp(prefix="sandpool-image-")
        os.chmod(self.base, 0o755)
        self.state = os.path.join(self.base, "state")
        self.src = os.path.join(self.base, "src")
        self.canary = os.path.join(self.base, "canary")
        os.makedirs(self.src)
        os.makedirs(self.canary)
        with open(os.path.join(self.canary, "file"), "w") as f:
            f.write("canary\n")

    def tearDown(self):
        subprocess.run(["chmod", "-R", "u+rwX", self.base], capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)

    def image(self, *args, **kw):
        return sandpool("image", "--state-dir", self.state, *args, **kw)

    def import_ok(self, name, source, *extra):
        code, out, err = self.image("import", name, source, *extra)
        self.assertEqual(code, 0, err)
        self.assertRegex(out, rf"^imported {name}: \d+ layers?, [\d.]+ (B|KiB|MiB)\n$")
        self.assertEqual(err, "")
        return os.path.join(self.state, "images", name, "rootfs")

    def import_fails(self, source, name="bad", status=1, message=None):
        code, out, err = self.image("import", name, source)
        self.assertEqual(code, status, f"stdout {out!r} stderr {err!r}")
        self.assertEqual(out, "")
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertTrue(err.startswith("sandpool image import: "), err)
        if message is not None:
            self.assertIn(message, err)
        if os.environ.get("SANDPOOL_TEST_SHOW_ERRORS"):
            print(f"\n    {err.strip()}", end=" ")
        self.assert_store_clean()
        return err

    def assert_store_clean(self):
        """No image and no leftover in the state directory, nothing new
        beside it, the canary untouched."""
        for sub in ("images", "tmp"):
            path = os.path.join(self.state, sub)
            if os.path.exists(path):
                self.assertEqual(os.listdir(path), [], sub)
        self.assertEqual(sorted(os.listdir(self.base)), ["canary", "src", "state"])
        self.assertEqual(os.listdir(self.canary), ["file"])
        with open(os.path.join(self.canary, "file")) as f:
            self.assertEqual(f.read(), "canary\n")

    def layout(self, images, name="layout"):
        return ml.oci_layout(os.path.join(self.src, name), images)


def read(path):
    with open(path) as f:
        return f.read()


class Import(ImageCase):
    def check_standard_tree(self, root):
        r = lambda p: os.path.join(root, p)
        self.assertEqual(read(r("etc/greeting")), "hello from layer 1\n")
        self.assertEqual(os.stat(r("etc/greeting")).st_ino,
                         os.stat(r("etc/greeting-hard")).st_ino)
        self.assertEqual(read(r("etc/app/conf")), "v2\n")
        self.assertEqual(read(r("etc/motd")), "layer 3\n")
        # whiteouts: a file and a directory of a lower layer are gone
        self.assertFalse(os.path.lexists(r("etc/remove-me")))
        self.assertFalse(os.path.lexists(r("data/sub")))
        self.assertEqual(read(r("data/keep")), "kept\n")
        self.assertEqual(os.stat(r("data/keep")).st_ino, os.stat(r("data/keep-hard")).st_ino)
        # the opaque directory holds only what its layer put there
        self.assertEqual(sorted(os.listdir(r("opq"))), ["new"])
        # symlinks kept as they are
        self.assertEqual(os.readlink(r("etc/link")), "greeting")
        self.assertEqual(os.readlink(r("etc/link2")), "/etc/motd")
        self.assertEqual(os.readlink(r("usr/lib/libfoo.so")), "libfoo.so.1")
        self.assertTrue(os.stat(r("usr/lib/libfoo.so.1")).st_mode & stat.S_IXUSR)
        # mount points: directories, even where the image had a file or symlink
        for d in ("proc", "dev", "tmp", "box", "sys"):
            st = os.lstat(r(d))
            self.assertTrue(stat.S_ISDIR(st.st_mode), d)
        self.assertEqual(os.listdir(r("box")), [])
        # no whiteout marker made it into the tree
        for dirpath, dirnames, filenames in os.walk(root):
            for n in dirnames + filenames:
                self.assertFalse(n.startswith(".wh."), os.path.join(dirpath, n))
        self.assertEqual(os.listdir(os.path.join(self.state, "tmp")), [])

    def check_record(self, name, kind):
        code, out, err = self.image("inspect", name)
        self.assertEqual(code, 0, err)
        rec = json.loads(out)
        self.assertEqual(rec["name"], name)
        self.assertEqual(rec["kind"], kind)
        self.assertEqual(rec["layers"], 3)
        self.assertEqual(rec["architecture"], "amd64")
        self.assertEqual(rec["os"], "linux")
        self.assertEqual(rec["created"], "2024-05-06T07:08:09Z")
        self.assertGreater(rec["size"], 0)
        self.assertEqual(rec["config"]["WorkingDir"], "/box")
        self.assertEqual(rec["config"]["Cmd"], ["/bin/sh"])
        self.assertTrue(rec["config"]["Env"][0].startswith("PATH="))
        self.assertTrue(rec["config_digest"].startswith("sha256:"))
        return rec

    def test_oci_layout(self):
        src = self.layout([ml.Image(ml.standard_layers(), tag="v1")])
        root = self.import_ok("std", src)
        self.check_standard_tree(root)
        rec = self.check_record("std", "oci-layout")
        self.assertTrue(rec["manifest_digest"].startswith("sha256:"))

    def test_oci_archive(self):
        path = ml.oci_archive(os.path.join(self.src, "img.tar"),
                              [ml.Image(ml.standard_layers(), tag="v1")], self.src)
        self.check_standard_tree(self.import_ok("std", path))
        self.check_record("std", "oci-archive")

    def test_docker_save(self):
        path = ml.docker_save(os.path.join(self.src, "img.tar"),
                              ml.Image(ml.standard_layers()))
        self.check_standard_tree(self.import_ok("std", path))
        rec = self.check_record("std", "docker-archive")
        self.assertIsNone(rec["manifest_digest"])

    def test_docker_save_duplicate_layer_symlink(self):
        """docker save stores a repeated layer once and links to it."""
        first = [("dir", "etc"), ("file", "etc/version", "1\n")]
        second = [("file", "etc/other", "2\n")]
        image = ml.Image([(first, "none"), (second, "none"), (first, "none")])
        path = ml.docker_save(os.path.join(self.src, "img.tar"), image)
        with tarfile.open(path) as tar:
            self.assertTrue(any(m.issym() for m in tar.getmembers()))
        root = self.import_ok("dup", path)
        self.assertEqual(read(os.path.join(root, "etc/version")), "1\n")
        self.assertEqual(read(os.path.join(root, "etc/other")), "2\n")

    def test_docker_save_by_tag(self):
        path = ml.docker_save(os.path.join(self.src, "img.tar"),
                              ml.Image(ml.simple_layers("d\n")), ["test/image:v7"])
        root = self.import_ok("d", path + ":v7")
        self.assertEqual(read(os.path.join(root, "etc/version")), "d\n")
        self.assertEqual(self.image("rm", "d")[0], 0)
        self.import_fails(path + ":v8", message="no single image tagged 'v8'")

    def test_tags(self):
        src = self.layout([ml.Image(ml.simple_layers("one\n"), tag="v1"),
                           ml.Image(ml.simple_layers("two\n"), tag="v2")])
        root = self.import_ok("two", src + ":v2")
        self.assertEqual(read(os.path.join(root, "etc/version")), "two\n")
        root = self.import_ok("one", src + ":v1")
        self.assertEqual(read(os.path.join(root, "etc/version")), "one\n")

    def test_unknown_tag_lists_tags(self):
        src = self.layout([ml.Image(ml.simple_layers("one\n"), tag="v1"),
                           ml.Image(ml.simple_layers("two\n"), tag="v2")])
        err = self.import_fails(src + ":v3", message="no image tagged 'v3'")
        self.assertIn("v1, v2", err)
        err = self.import_fails(src, message="choose one with SOURCE:TAG")
        self.assertIn("v1, v2", err)

    def test_nested_index_picks_host_platform(self):
        src = ml.oci_layout_with_index(
            os.path.join(self.src, "multi"),
            [ml.Image(ml.simple_layers("arm\n"), arch="arm64"),
             ml.Image(ml.simple_layers("amd\n"), arch="amd64")])
        root = self.import_ok("multi", src)
        self.assertEqual(read(os.path.join(root, "etc/version")), "amd\n")

    def test_nested_index_without_host_platform(self):
        src = ml.oci_layout_with_index(
            os.path.join(self.src, "multi"),
            [ml.Image(ml.simple_layers("arm\n"), arch="arm64")])
        self.import_fails(src, message="no linux/amd64 image")

    def test_state_dir_from_environment(self):
        src = self.layout([ml.Image(ml.simple_layers("x\n"))])
        env = dict(os.environ, SANDPOOL_STATE_DIR=self.state)
        code, out, err = sandpool("image", "import", "envimg", src, env=env)
        self.assertEqual(code, 0, err)
        self.assertTrue(os.path.isdir(os.path.join(self.state, "images/envimg/rootfs")))

    @unittest.skipUnless(os.path.exists(ml.BUSYBOX), "no static busybox")
    def test_pull_image_from_a_local_oci_source(self):
        tool = os.environ.get("SANDPOOL_PULL_IMAGE", "")
        if not tool:
            self.skipTest("SANDPOOL_PULL_IMAGE (tools/pull-image) not given")
        src = self.layout([ml.Image(ml.standard_layers(), tag="v1")])
        env = dict(os.environ, SANDPOOL=BIN)
        proc = subprocess.run([tool, f"oci:{src}:v1", "pulled", "--state-dir", self.state],
                              capture_output=True, env=env, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.check_standard_tree(os.path.join(self.state, "images", "pulled", "rootfs"))

    def test_imported_image_runs(self):
        src = self.layout([ml.Image(ml.standard_layers(), tag="v1")])
        root = self.import_ok("bb", src)
        code, out, err = sandpool("run", "--rootfs", root, "--id-map", ID_MAP, "--",
                                  "/bin/sh", "-c", "cat /etc/greeting /etc/motd; ls /opq")
        self.assertEqual(code, 0, err)
        result = json.loads(out)
        self.assertEqual(result["status"], "ok", result)
        self.assertEqual(result["stdout"], "hello from layer 1\nlayer 3\nnew\n")

    def test_run_by_image_name_with_its_env_and_cmd(self):
        src = self.layout([ml.Image(ml.standard_layers(), tag="v1")])
        self.import_ok("bb", src)
        script = os.path.join(self.base, "script")
        with open(script, "w") as f:
            f.write("echo $PATH; cat /etc/motd\n")
        os.chmod(script, 0o644)
        # no command: the image's Cmd (/bin/sh) reads the script on stdin
        code, out, err = sandpool("run", "--state-dir", self.state, "--image", "bb",
                                  "--id-map", ID_MAP, "--stdin", script)
        self.assertEqual(code, 0, err)
        result = json.loads(out)
        self.assertEqual(result["status"], "ok", result)
        env_path = [e for e in self.check_record("bb", "oci-layout")["config"]["Env"]
                    if e.startswith("PATH=")][0][5:]
        self.assertEqual(result["stdout"], f"{env_path}\nlayer 3\n")
        code, out, err = sandpool("run", "--state-dir", self.state, "--image", "absent",
                                  "--", "true")
        self.assertEqual(code, 2)
        self.assertIn("no image absent", err)

    def strip_mount_points(self, root):
        """Take away what the import made: no /proc, /dev or /sys, /box a
        symlink to the canary, /tmp a file."""
        os.chmod(root, 0o755)
        for name in ("proc", "dev", "sys", "box", "tmp"):
            os.rmdir(os.path.join(root, name))
        os.symlink(self.canary, os.path.join(root, "box"))
        with open(os.path.join(root, "tmp"), "w") as f:
            f.write("a file\n")

    def serve(self, pool_size):
        """`sandpool serve` of one language, sh over the image bb, with
        POOL_SIZE warm cells: (process, url, log file)."""
        langs = os.path.join(self.base, "languages")
        os.makedirs(langs, exist_ok=True)
        with open(os.path.join(langs, "sh.json"), "w") as f:
            json.dump({"name": "sh", "image": "bb", "source": "main.sh",
                       "run": ["/bin/sh", "main.sh"], "env": {"PATH": "/bin"}}, f)
        config = os.path.join(self.base, "config.json")
        with open(config, "w") as f:
            json.dump({"pool_sizes": {"sh": pool_size}}, f)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        log = open(os.path.join(self.base, f"serve-{pool_size}.log"), "w+")
        proc = subprocess.Popen([BIN, "serve", "--config", config, "--state-dir", self.state,
                                 "--languages-dir", langs, "--listen", f"127.0.0.1:{port}"],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=5):
                    return proc, url, log
            except OSError:
                time.sleep(0.05)
        proc.kill()
        proc.wait()
        log.seek(0)
        raise AssertionError(f"sandpool serve did not start: {log.read()}")

    @unittest.skipUnless(os.path.exists(ml.BUSYBOX), "no static busybox")
    def test_serve_an_image_without_mount_points(self):
        """An image of the store whose mount points are gone (removed, a
        symlink, a file) serves all the same, from warm cells and cold ones,
        and nothing is written through the symlink."""
        root = self.import_ok("bb", self.layout([ml.Image(ml.standard_layers(), tag="v1")]))
        self.strip_mount_points(root)
        body = json.dumps({"language": "sh", "code": "pwd; echo a > f; echo b > /tmp/f; "
                                                     "cat f /tmp/f; ls -A /box /tmp"}).encode()
        for pool_size in (1, 0):
            proc, url, log = self.serve(pool_size)
            try:
                for _ in range(2):
                    req = urllib.request.Request(url + "/api/v1/run", data=body,
                                                 headers={"Content-Type": "application/json"})
                    with urllib.request.urlopen(req, timeout=60) as r:
                        answer = json.loads(r.read())
                    self.assertEqual(answer["status"], "ok", answer)
                    self.assertEqual(answer["stdout"],
                                     "/box\na\nb\n/box:\nf\nmain.sh\n\n/tmp:\nf\n", answer)
            finally:
                proc.terminate()
                proc.wait(timeout=60)
                log.close()
        self.assertEqual(os.listdir(self.canary), ["file"])
        self.assertEqual(os.readlink(os.path.join(root, "box")), self.canary)
        self.assertEqual(read(os.path.join(root, "tmp")), "a file\n")

    def test_leftovers_of_a_killed_import_are_swept(self):
        dead = os.path.join(self.state, "tmp", "import-999999999-abcdef")
        os.makedirs(os.path.join(dead, "rootfs", "etc"))
        src = self.layout([ml.Image(ml.standard_layers(), tag="v1")])
        self.import_ok("std", src)
        self.assertEqual(os.listdir(os.path.join(self.state, "tmp")), [])


class Store(ImageCase):
    def test_ls_inspect_rm(self):
        self.import_ok("beta", self.layout([ml.Image(ml.simple_layers("b\n"))], "b"))
        self.import_ok("alpha", self.layout([ml.Image(ml.simple_layers("a\n"))], "a"))
        code, out, err = self.image("ls")
        self.assertEqual(code, 0, err)
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "SIZE", "LAYERS", "CREATED"])
        self.assertEqual([l.split()[0] for l in lines[1:]], ["alpha", "beta"])
        self.assertIn("2024-05-06 07:08", lines[1])
        code, out, err = self.image("ls", "--json")
        self.assertEqual(code, 0, err)
        self.assertEqual([i["name"] for i in json.loads(out)], ["alpha", "beta"])
        code, out, err = self.image("inspect", "alpha")
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out)["layers"], 1)
        code, out, err = self.image("rm", "alpha")
        self.assertEqual((code, out, err), (0, "", ""))
        self.assertFalse(os.path.exists(os.path.join(self.state, "images/alpha")))
        self.assertEqual(os.listdir(os.path.join(self.state, "tmp")), [])
        code, out, err = self.image("rm", "alpha")
        self.assertEqual(code, 1)
        self.assertEqual(err, "sandpool image rm: no image alpha (sandpool image ls lists them)\n")
        code, out, err = self.image("inspect", "alpha")
        self.assertEqual(code, 1)
        self.assertEqual(len(err.splitlines()), 1)

    def test_empty_ls(self):
        code, out, err = self.image("ls")
        self.assertEqual(code, 0, err)
        self.assertEqual(out.split(), ["NAME", "SIZE", "LAYERS", "CREATED"])
        code, out, err = self.image("ls", "--json")
        self.assertEqual(json.loads(out), [])

    def test_replace(self):
        self.import_ok("img", self.layout([ml.Image(ml.simple_layers("v1\n"))], "one"))
        two = self.layout([ml.Image(ml.simple_layers("v2\n"))], "two")
        code, out, err = self.image("import", "img", two)
        self.assertEqual(code, 1)
        self.assertIn("exists (use --replace)", err)
        self.assertEqual(os.listdir(os.path.join(self.state, "tmp")), [])
        root = self.import_ok("img", two, "--replace")
        self.assertEqual(read(os.path.join(root, "etc/version")), "v2\n")
        self.assertEqual(os.listdir(os.path.join(self.state, "images")), ["img"])
        self.assertEqual(os.listdir(os.path.join(self.state, "tmp")), [])
        # --replace also works when there is nothing to replace
        self.import_ok("new", two, "--replace")

    def test_failed_replace_keeps_the_old_image(self):
        root = self.import_ok("img", self.layout([ml.Image(ml.simple_layers("v1\n"))], "one"))
        code, out, err = self.image("import", "img", os.path.join(self.src, "nothing"),
                                    "--replace")
        self.assertEqual(code, 1)
        self.assertEqual(read(os.path.join(root, "etc/version")), "v1\n")
        self.assertEqual(os.listdir(os.path.join(self.state, "tmp")), [])

    def test_bad_usage(self):
        for args in (["import", "onlyname"], ["import", "Bad_Name", self.src],
                     ["import", "-x", self.src], ["import", ".hidden", self.src],
                     ["import", "a" * 65, self.src], ["frob"], [], ["ls", "--replace"],
                     ["ls", "extra"], ["rm"], ["inspect", "../etc"], ["rm", "a/b"]):
            code, out, err = self.image(*args)
            self.assertEqual(code, 2, f"{args}: {err}")
            self.assertEqual(len(err.splitlines()), 1, f"{args}: {err}")
            self.assertEqual(out, "")
        code, out, err = sandpool("image", "import", "x", self.src, "--state-dir")
        self.assertEqual(code, 2)
        self.assertIn("needs a value", err)

    def test_help(self):
        code, out, err = sandpool("image", "--help")
        self.assertEqual(code, 0)
        self.assertIn("import NAME SOURCE", out)


class Hostile(ImageCase):
    """Each is refused with status 1 and one line, leaving nothing behind."""

    def one_layer(self, entries, how="none", name="layout"):
        return self.layout([ml.Image([(entries, how)])], name)

    def escape(self, rest):
        """A relative path from inside the import that climbs to BASE/REST."""
        return "../" * 12 + self.base.lstrip("/") + "/" + rest

    def test_path_traversal_entry(self):
        self.import_fails(self.one_layer([("file", self.escape("escaped"), "x\n")]))

    def test_path_traversal_in_the_middle(self):
        self.import_fails(self.one_layer([("dir", "a"),
                                          ("file", "a/../../escaped", "x\n")]))

    def test_absolute_path_entry(self):
        self.import_fails(self.one_layer([("file", self.base + "/abs-escaped", "x\n")]))

    def test_symlink_then_write_through(self):
        lower = [("symlink", "evil", self.canary)]
        upper = [("file", "evil/pwned", "x\n")]
        self.import_fails(self.layout([ml.Image([(lower, "gzip"), (upper, "gzip")])]))

    def test_relative_symlink_then_write_through(self):
        lower = [("symlink", "evil", "../" * 12 + self.canary.lstrip("/"))]
        upper = [("dir", "evil/sub"), ("file", "evil/pwned", "x\n")]
        self.import_fails(self.layout([ml.Image([(lower, "none"), (upper, "none")])]))

    def test_hard_link_to_etc_shadow(self):
        before = os.lstat("/etc/shadow") if os.path.exists("/etc/shadow") else None
        for target in ("/etc/shadow", "../" * 12 + "etc/shadow"):
            self.import_fails(self.one_layer([("hardlink", "shadow", target)],
                                             name="l" + str(len(target))))
        if before is not None:
            after = os.lstat("/etc/shadow")
            self.assertEqual((before.st_nlink, before.st_mtime_ns, before.st_mode),
                             (after.st_nlink, after.st_mtime_ns, after.st_mode))

    def test_hard_link_to_canary(self):
        self.import_fails(self.one_layer([("hardlink", "c", self.canary + "/file"),
                                          ("file", "c", "overwritten\n")]))

    def test_digest_mismatch(self):
        src = self.one_layer([("file", "f", "AAAA content\n")])
        # change one byte of the file's content: still a valid tar
        for path in self.blobs(src):
            with open(path, "rb") as f:
                data = f.read()
            if b"AAAA content" in data:
                with open(path, "wb") as f:
                    f.write(data.replace(b"AAAA content", b"BAAA content"))
                break
        else:
            self.fail("no layer blob found")
        self.import_fails(src, message="layer 1: digest mismatch")

    def test_truncated_blob(self):
        src = self.one_layer([("file", "f", "x" * 100000)], how="gzip")
        path = self.layer_blob(src)
        size = os.path.getsize(path)
        os.truncate(path, size // 2)
        self.import_fails(src, message="layer 1: size mismatch")

    def test_missing_blob(self):
        src = self.one_layer([("file", "f", "x\n")])
        os.unlink(self.layer_blob(src))
        self.import_fails(src, message="missing")

    def test_manifest_not_json(self):
        src = os.path.join(self.src, "layout")
        os.makedirs(src)
        blob = ml.write_blob(src, b"this is { not json")
        ml.write_index(src, [ml.descriptor(ml.OCI_MANIFEST, blob)])
        self.import_fails(src, message="manifest is not valid JSON")

    def test_index_not_json(self):
        src = self.one_layer([("file", "f", "x\n")])
        with open(os.path.join(src, "index.json"), "w") as f:
            f.write("[[[")
        self.import_fails(src, message="index.json is not valid JSON")

    def test_layer_not_a_tar(self):
        src = os.path.join(self.src, "layout")
        image = ml.Image([([("file", "f", "x\n")], "none")])
        image.blobs = [os.urandom(5000)]
        ml.oci_layout(src, [image])
        self.import_fails(src, message="layer 1")

    def test_unknown_layer_media_type(self):
        image = ml.Image([([("file", "f", "x\n")], "gzip")])
        image.types = ["application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"]
        self.import_fails(self.layout([image]), message="unsupported media type")

    def test_traversal_digest_in_layer(self):
        src = self.one_layer([("file", "f", "x\n")])
        self.rewrite_manifest(src, lambda m: m["layers"][0].update(digest="sha256:../../x"))
        self.import_fails(src, message="invalid digest")

    def test_traversal_digest_in_index(self):
        src = self.one_layer([("file", "f", "x\n")])
        with open(os.path.join(src, "index.json")) as f:
            index = json.load(f)
        index["manifests"][0]["digest"] = "sha256:../../../canary/file"
        with open(os.path.join(src, "index.json"), "w") as f:
            json.dump(index, f)
        self.import_fails(src, message="invalid digest")

    def test_uppercase_digest(self):
        src = self.one_layer([("file", "f", "x\n")])
        self.rewrite_manifest(src, lambda m: m["layers"][0].update(
            digest=m["layers"][0]["digest"].upper().replace("SHA256", "sha256")))
        self.import_fails(src, message="invalid digest")

    def test_blob_is_a_symlink(self):
        src = self.one_layer([("file", "f", "x\n")])
        path = self.layer_blob(src)
        shutil.copy(path, os.path.join(self.src, "copy"))
        os.unlink(path)
        os.symlink(os.path.join(self.src, "copy"), path)
        self.import_fails(src)

    def test_docker_archive_traversal_layer_path(self):
        path = ml.docker_save(os.path.join(self.src, "img.tar"),
                              ml.Image(ml.simple_layers("x\n")))
        members = {}
        with tarfile.open(path) as tar:
            for m in tar.getmembers():
                members[m.name] = tar.extractfile(m).read()
        manifest = json.loads(members["manifest.json"])
        manifest[0]["Layers"] = ["../../../etc/passwd"]
        members["manifest.json"] = json.dumps(manifest).encode()
        with tarfile.open(path, "w") as tar:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        self.import_fails(path, message="invalid path")

    def test_archive_with_traversal_member(self):
        path = os.path.join(self.src, "evil.tar")
        with tarfile.open(path, "w") as tar:
            data = b"x\n"
            info = tarfile.TarInfo("../../escaped")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        self.import_fails(path, message="unsafe path")

    def test_not_an_image(self):
        self.import_fails(self.src, message="not an OCI layout")
        path = os.path.join(self.src, "junk.tar")
        with open(path, "wb") as f:
            f.write(os.urandom(3000))
        self.import_fails(path)
        self.import_fails(os.path.join(self.src, "absent"), message="no such file")

    # helpers

    def blobs(self, layout):
        d = os.path.join(layout, "blobs", "sha256")
        return [os.path.join(d, n) for n in os.listdir(d)]

    def manifest(self, layout):
        with open(os.path.join(layout, "index.json")) as f:
            digest = json.load(f)["manifests"][0]["digest"]
        return os.path.join(layout, "blobs", "sha256", digest[7:])

    def layer_blob(self, layout):
        with open(self.manifest(layout)) as f:
            digest = json.load(f)["layers"][0]["digest"]
        return os.path.join(layout, "blobs", "sha256", digest[7:])

    def rewrite_manifest(self, layout, change):
        """Edit the manifest, store it under its new digest, point index.json at it."""
        with open(self.manifest(layout)) as f:
            manifest = json.load(f)
        change(manifest)
        blob = ml.write_blob(layout, json.dumps(manifest).encode())
        ml.write_index(layout, [ml.descriptor(ml.OCI_MANIFEST, blob)])


if __name__ == "__main__":
    unittest.main()
