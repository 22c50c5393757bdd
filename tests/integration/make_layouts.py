"""Craft image sources for the tests of `sandpool image import`: OCI image
layouts, OCI archives and `docker save` tarballs, from layers described as
lists of entries. Honest ones and hostile ones.

A layer is a list of entries:
  ("dir", path[, mode])              ("file", path, content[, mode])
  ("symlink", path, target)          ("hardlink", path, target)
  ("whiteout", path)  -> dirname/.wh.basename
  ("opaque", dir)     -> dir/.wh..wh..opq
  ("raw", name, type, content, linkname)  any tar member, name as given
"""

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile

MTIME = 1700000000
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_TYPES = {
    "none": "application/vnd.oci.image.layer.v1.tar",
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
}
BUSYBOX = "/bin/busybox"


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _info(name, kind, mode, size=0, linkname=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.size = size
    info.linkname = linkname
    info.mtime = MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def _add(tar, entry):
    kind, path = entry[0], entry[1]
    if kind == "dir":
        tar.addfile(_info(path, tarfile.DIRTYPE, entry[2] if len(entry) > 2 else 0o755))
    elif kind == "file":
        data = entry[2].encode() if isinstance(entry[2], str) else entry[2]
        mode = entry[3] if len(entry) > 3 else 0o644
        tar.addfile(_info(path, tarfile.REGTYPE, mode, len(data)), io.BytesIO(data))
    elif kind == "symlink":
        tar.addfile(_info(path, tarfile.SYMTYPE, 0o777, linkname=entry[2]))
    elif kind == "hardlink":
        tar.addfile(_info(path, tarfile.LNKTYPE, 0o644, linkname=entry[2]))
    elif kind == "whiteout":
        head, tail = os.path.split(path)
        tar.addfile(_info(os.path.join(head, ".wh." + tail), tarfile.REGTYPE, 0o644))
    elif kind == "opaque":
        tar.addfile(_info(os.path.join(path, ".wh..wh..opq"), tarfile.REGTYPE, 0o644))
    elif kind == "raw":
        _, name, ttype, content, linkname = entry
        data = content or b""
        tar.addfile(_info(name, ttype, 0o644, len(data), linkname),
                    io.BytesIO(data) if data else None)
    else:
        raise ValueError(f"unknown entry kind {kind}")


def tar_bytes(entries):
    """An uncompressed tar of ENTRIES, names kept exactly as given."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for entry in entries:
            _add(tar, entry)
    return buf.getvalue()


def compress(data, how):
    if how == "none":
        return data
    if how == "gzip":
        return gzip.compress(data, mtime=0)
    if how == "zstd":
        return subprocess.run(["zstd", "-q", "-c"], input=data, capture_output=True,
                              check=True).stdout
    raise ValueError(how)


class Image:
    """One image: its layers (entries, compression) and config."""

    def __init__(self, layers, tag=None, arch="amd64", env=None, cmd=None):
        self.tag = tag
        self.arch = arch
        self.diffs = [tar_bytes(entries) for entries, _ in layers]
        self.blobs = [compress(d, how) for d, (_, how) in zip(self.diffs, layers)]
        self.types = [LAYER_TYPES[how] for _, how in layers]
        self.config = {
            "created": "2024-05-06T07:08:09Z",
            "architecture": arch,
            "os": "linux",
            "config": {
                "Env": env or ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                "WorkingDir": "/box",
                "User": "1000",
                "Cmd": cmd or ["/bin/sh"],
            },
            "rootfs": {"type": "layers", "diff_ids": [sha256(d) for d in self.diffs]},
        }

    def config_bytes(self):
        return json.dumps(self.config, sort_keys=True).encode()


def write_blob(layout, data):
    digest = sha256(data)
    path = os.path.join(layout, "blobs", "sha256", digest[7:])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return {"digest": digest, "size": len(data)}


def manifest_bytes(layout, image):
    """Write IMAGE's config and layer blobs; return its manifest's bytes."""
    config = write_blob(layout, image.config_bytes())
    layers = []
    for blob, media_type in zip(image.blobs, image.types):
        layers.append({"mediaType": media_type, **write_blob(layout, blob)})
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, **config}, "layers": layers}
    return json.dumps(manifest, indent=1).encode()


def write_index(layout, descriptors):
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}, f)


def descriptor(media_type, blob_desc, tag=None, arch=None):
    d = {"mediaType": media_type, **blob_desc}
    if tag is not None:
        d["annotations"] = {"org.opencontainers.image.ref.name": tag}
    if arch is not None:
        d["platform"] = {"os": "linux", "architecture": arch}
    return d


def oci_layout(layout, images):
    """An OCI image layout at LAYOUT holding IMAGES (each tagged or not)."""
    os.makedirs(layout, exist_ok=True)
    descs = []
    for image in images:
        blob = write_blob(layout, manifest_bytes(layout, image))
        descs.append(descriptor(OCI_MANIFEST, blob, image.tag))
    write_index(layout, descs)
    return layout


def oci_layout_with_index(layout, images, tag="multi"):
    """index.json -> one image index (a manifest list) -> one manifest per
    platform of IMAGES."""
    os.makedirs(layout, exist_ok=True)
    descs = []
    for image in images:
        blob = write_blob(layout, manifest_bytes(layout, image))
        descs.append(descriptor(OCI_MANIFEST, blob, arch=image.arch))
    nested = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descs})
    write_index(layout, [descriptor(OCI_INDEX, write_blob(layout, nested.encode()), tag)])
    return layout


def tar_directory(directory, tar_path):
    """A tar of DIRECTORY's contents, as an OCI archive is."""
    with tarfile.open(tar_path, "w") as tar:
        for name in sorted(os.listdir(directory)):
            tar.add(os.path.join(directory, name), arcname=name)
    return tar_path


def oci_archive(tar_path, images, workdir):
    layout = oci_layout(os.path.join(workdir, "archive-layout"), images)
    tar_directory(layout, tar_path)
    shutil.rmtree(layout)
    return tar_path


def docker_save(tar_path, image, repo_tags=("test/image:v1",)):
    """A `docker save` tarball (the format before Docker 25): <id>/layer.tar
    uncompressed, <config digest hex>.json and manifest.json. A layer equal
    to an earlier one is a symlink to it, as docker writes it."""
    members = {}
    links = {}
    config = image.config_bytes()
    config_name = sha256(config)[7:] + ".json"
    members[config_name] = config
    layer_paths = []
    first = {}
    for i, diff in enumerate(image.diffs):
        layer_id = hashlib.sha256(b"id%d" % i + diff).hexdigest()
        members[f"{layer_id}/VERSION"] = b"1.0"
        if diff in first:
            links[f"{layer_id}/layer.tar"] = f"../{first[diff]}/layer.tar"
        else:
            members[f"{layer_id}/layer.tar"] = diff
            first[diff] = layer_id
        layer_paths.append(f"{layer_id}/layer.tar")
    manifest = [{"Config": config_name, "RepoTags": list(repo_tags), "Layers": layer_paths}]
    members["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(tar_path, "w") as tar:
        for name, data in members.items():
            tar.addfile(_info(name, tarfile.REGTYPE, 0o644, len(data)), io.BytesIO(data))
        for name, target in links.items():
            tar.addfile(_info(name, tarfile.SYMTYPE, 0o777, linkname=target))
    return tar_path


def standard_layers(with_busybox=True):
    """Three layers exercising what an importer must get right: a gzip, a
    zstd and a plain layer; file and directory whiteouts, an opaque
    directory, hard links (within a layer and to a lower one), symlinks,
    and a /box symlink and a /proc file where mount points must go."""
    lower = [
        ("dir", "bin"), ("dir", "etc"), ("dir", "etc/app"), ("dir", "usr"),
        ("dir", "usr/lib"), ("dir", "data"), ("dir", "data/sub"), ("dir", "opq"),
        ("dir", "opq/old"),
        ("file", "etc/greeting", "hello from layer 1\n"),
        ("hardlink", "etc/greeting-hard", "etc/greeting"),
        ("file", "etc/remove-me", "doomed\n"),
        ("file", "etc/app/conf", "v1\n"),
        ("file", "data/sub/a", "a\n"),
        ("file", "data/keep", "kept\n"),
        ("file", "opq/old/f", "old\n"),
        ("file", "opq/lower", "lower\n"),
        ("file", "usr/lib/libfoo.so.1", "\x7fELF not really\n", 0o755),
        ("symlink", "usr/lib/libfoo.so", "libfoo.so.1"),
        ("symlink", "etc/link", "greeting"),
        ("symlink", "box", "/etc"),
        ("file", "proc", "not a directory\n"),
    ]
    if with_busybox and os.path.exists(BUSYBOX):
        with open(BUSYBOX, "rb") as f:
            lower.append(("file", "bin/busybox", f.read(), 0o755))
        lower.append(("symlink", "bin/sh", "busybox"))
        lower.append(("symlink", "bin/cat", "busybox"))
        lower.append(("symlink", "bin/ls", "busybox"))
    middle = [
        ("whiteout", "etc/remove-me"),
        ("whiteout", "data/sub"),
        ("opaque", "opq"),
        ("file", "opq/new", "new\n"),
        ("file", "etc/app/conf", "v2\n"),
        ("hardlink", "data/keep-hard", "data/keep"),
    ]
    upper = [
        ("file", "etc/motd", "layer 3\n"),
        ("symlink", "etc/link2", "/etc/motd"),
    ]
    return [(lower, "gzip"), (middle, "zstd"), (upper, "none")]


def simple_layers(text):
    """One small gzip layer with /etc/version holding TEXT."""
    return [([("dir", "etc"), ("file", "etc/version", text)], "gzip")]
