"""The language samples (tests/languages) and which of their languages this
host can run. The languages come from the folders, not from a list in the
tests: a new language file, its image recipe and its samples need no change
here.

  SANDPOOL_LANGUAGES      the samples, one folder per language:
                          hello.EXT, sum.EXT with sum.in and sum.out,
                          args.EXT; KIND.skip says why that sample cannot
                          be written for the language (its text is the reason)
  SANDPOOL_LANGUAGES_DIR  the language files, as sandpool finds them: else
                          languages/ beside the binary, else
                          ../share/sandpool/languages from it
  SANDPOOL_BIN, SANDPOOL_STATE_DIR  the binary and its image store
"""

import functools
import json
import os
import subprocess

BIN = os.environ.get("SANDPOOL_BIN", "./sandpool")
STATE = os.environ.get("SANDPOOL_STATE_DIR", "")
SAMPLES = os.environ.get("SANDPOOL_LANGUAGES", "tests/languages")


def languages():
    """Every language with samples: a folder of SAMPLES with a hello sample."""
    found = []
    for name in sorted(os.listdir(SAMPLES)):
        folder = os.path.join(SAMPLES, name)
        if os.path.isdir(folder) and any(f.startswith("hello.") for f in os.listdir(folder)):
            found.append(name)
    return tuple(found)


def sample_path(language, kind):
    """The source of sample KIND (hello, sum, args) of LANGUAGE."""
    folder = os.path.join(SAMPLES, language)
    for name in sorted(os.listdir(folder)):
        if name.startswith(kind + ".") and not name.endswith((".in", ".out", ".skip")):
            return os.path.join(folder, name)
    raise AssertionError(f"no {kind} sample for {language} in {folder}")


def sample(language, kind):
    with open(sample_path(language, kind)) as f:
        return f.read()


def skipped(language, kind):
    """Why LANGUAGE has no sample KIND (its KIND.skip), or None."""
    try:
        with open(os.path.join(SAMPLES, language, kind + ".skip")) as f:
            return f"{language} has no {kind} sample: {f.read().strip()}"
    except FileNotFoundError:
        return None


def languages_dir():
    env = os.environ.get("SANDPOOL_LANGUAGES_DIR")
    if env:
        return env
    exe = os.path.dirname(os.path.realpath(BIN))
    for d in (os.path.join(exe, "languages"),
              os.path.join(exe, "..", "share", "sandpool", "languages")):
        if os.path.isdir(d):
            return d
    raise AssertionError(f"no languages folder beside {BIN} (set SANDPOOL_LANGUAGES_DIR)")


@functools.lru_cache(maxsize=None)
def language_files():
    """Each language file's contents, by its name."""
    found = {}
    folder = languages_dir()
    for name in sorted(os.listdir(folder)):
        if name.endswith(".json"):
            with open(os.path.join(folder, name)) as f:
                doc = json.load(f)
            found[doc["name"]] = doc
    return found


@functools.lru_cache(maxsize=None)
def stored_images():
    """The names of the images of the store (`sandpool image ls --json`)."""
    cmd = [BIN, "image", "ls", "--json"] + (["--state-dir", STATE] if STATE else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise AssertionError(f"sandpool image ls: {proc.stderr}")
    return frozenset(img["name"] for img in json.loads(proc.stdout))


def unavailable(language):
    """Why LANGUAGE cannot run on this host (no language file, or its image
    is not in the store), or None when it can."""
    doc = language_files().get(language)
    if doc is None:
        return f"no language file for {language} in {languages_dir()}"
    if doc["image"] not in stored_images():
        return (f"{language}: its image {doc['image']} is not in the store "
                f"(tools/build-images {doc['image']})")
    return None


def available():
    """The languages a server over this store serves: those whose image is there."""
    return {name for name in language_files() if unavailable(name) is None}
