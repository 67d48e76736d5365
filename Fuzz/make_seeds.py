#!/usr/bin/env python3
"""Writes small seed inputs for the fuzz targets into <corpus>/<target>/ (see Fuzz/run.sh).

Seeds are kept to a few hundred bytes: libFuzzer mutates them thousands of times a second, and
small inputs reach the same decoder paths as large ones. Needs NumPy; nothing here is unpickled.
Usage: make_seeds.py CORPUS_DIR
"""
import gzip
import io
import os
import pickle
import sys
import zlib

import numpy as np

root = sys.argv[1]


def put(target, name, data):
    os.makedirs(os.path.join(root, target), exist_ok=True)
    with open(os.path.join(root, target, name), "wb") as f:
        f.write(data)


def npy(a, version=None):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a, version=version, allow_pickle=False)
    return buf.getvalue()


def npz(compressed, **arrays):
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return buf.getvalue()


arrays = {
    "f4": np.arange(6, dtype="<f4").reshape(2, 3),
    "f8": np.arange(3, dtype="<f8"),
    "i8": np.arange(4, dtype="<i8").reshape(2, 2),
    "u1": np.arange(8, dtype="u1").reshape(2, 2, 2),
    "text": np.array("conv 8 3"),
    "empty": np.zeros((0, 4), dtype="<f4"),
}
for name, a in arrays.items():
    put("npy", name + ".npy", npy(a))
put("npy", "v2.npy", npy(arrays["f4"], version=(2, 0)))

put("npz", "stored.npz", npz(False, w=arrays["f4"], arch=arrays["text"]))
put("npz", "deflate.npz", npz(True, w=arrays["f4"], b=arrays["u1"]))
put("npz", "one.npz", npz(False, a=arrays["i8"]))

# Small CIFAR-like batch (dict of bytes keys, list of labels, u1 array) and an array dump, as
# Python 3 pickles them at the protocols real files use.
batch = {b"batch_label": b"fuzz", b"labels": [0, 1], b"data": np.arange(24, dtype="u1").reshape(2, 12),
         b"filenames": [b"a.png", b"b.png"]}
for p in (2, 4, 5):
    put("pickle", f"batch_p{p}.pkl", pickle.dumps(batch, protocol=p))
    put("pickle", f"dump_f4_p{p}.pkl", pickle.dumps(np.linspace(0, 1, 8, dtype="<f4").reshape(2, 4), protocol=p))
put("pickle", "meta_p0.pkl", pickle.dumps({"label_names": ["a", "b"], "num_vis": 12}, protocol=0))

for name, a in (("u1", arrays["u1"]), ("f4", arrays["f4"])):
    raw = npy(a)
    put("gzip", name + ".npy.gz", gzip.compress(raw, mtime=0))
    put("gzip", name + ".npy.zlib", zlib.compress(raw))
put("gzip", "empty.gz", gzip.compress(b"", mtime=0))
put("gzip", "two-members.gz", gzip.compress(b"ab", mtime=0) + gzip.compress(b"cd", mtime=0))
