#!/usr/bin/env python3
"""Generate the binary test fixtures used by le4nn's Swift loader tests.

WHAT IT WRITES (all paths relative to this file's directory, Tests/Fixtures/):

  pickle/        Small pickles:
                 * NumPy ndarrays pickled by Python 3 (protocols 0-5, every
                   dtype i1/i2/i4/i8/f4/f8 in both byte orders, Fortran order,
                   empty and 1-D arrays);
                 * the same kind of arrays in the exact byte layout that
                   Python 2.7 cPickle + NumPy 1.x produced (hand-emitted, see
                   `Py2Pickler`), because real-world files such as the CIFAR-10
                   batches were written that way;
                 * CIFAR-10-like batch and batches.meta dicts (Python 2 and 3);
                 * "contest dumps" (a pickled array of N 28x28 images);
                 * malicious and broken pickles that a safe decoder must refuse.
                   They are hand-assembled byte strings and are NEVER unpickled
                   by this script (only walked with pickletools.genops, which
                   does not execute anything).
  idx/           Tiny MNIST-style IDX files (raw and .gz) plus broken ones.
  manifest.json  Machine-readable description of every file: dtype, shape,
                 expected values (flat, C order of the logical array), the
                 pickle opcodes each file uses, and for bad files why they are
                 bad and, where meaningful, the byte offset of the offending
                 opcode.

WHY: the Swift package must read these formats without Python at run time. The
fixtures pin down the exact byte forms its decoders have to handle (and refuse).

HOW TO RUN (from the repository root):

    python3 Tests/Fixtures/make_fixtures.py

Requires Python 3 and NumPy 2.x (written against Python 3.11 + NumPy 2.4.6; the
Python-3 pickles name `numpy._core...`, which is NumPy-2 specific).  After
writing, the script re-reads every "good" pickle with pickle/NumPy and checks it
against the manifest, and walks every bad pickle with pickletools; it exits
non-zero on any mismatch.

DETERMINISM: the output depends only on this script and the Python/NumPy/zlib
versions; running it twice gives byte-identical files (no timestamps: gzip is
written with mtime=0, JSON with fixed key order).  The .gz files come from the
system zlib, so a different zlib build (e.g. zlib-ng) could produce different
but equivalent compressed bytes; the manifest therefore also records the
decompressed content.

Value formulas (element i of an array with n elements, C order):
  u1: (i*37) % 256          i1: ((i*37) % 256) - 128
  i2: i*1000 - 12000        i4: i*100000 - 1200000
  i8: i*10000000000 - 120000000000
  f4, f8: i*0.5 - 3.25
Default shape (2, 3, 4).

Opcodes exercised (print the exact per-file lists with `--opcodes`):
  py3 protocol 0  : GLOBAL 'numpy._core.multiarray _reconstruct', MARK, TUPLE,
                    INT (also INT 00/01 for False/True), UNICODE, PUT/GET,
                    REDUCE, BUILD, NONE; the data is GLOBAL '_codecs encode'
                    applied to (UNICODE latin-1 text, 'latin1').
  py3 protocol 1  : as 0 but BININT1/BININT, BINUNICODE, BINPUT/BINGET (bools
                    still INT 00/01); data still via '_codecs encode'.
  py3 protocol 2  : + PROTO, TUPLE1/2/3, NEWTRUE/NEWFALSE (BININT2 for dims
                    >= 256); data BINUNICODE via '_codecs encode'.
  py3 protocol 3  : data as SHORT_BINBYTES (no '_codecs').
  py3 protocol 4  : FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL, data as
                    SHORT_BINBYTES, or BINBYTES when >= 256 bytes (dumps,
                    cifar_py3); dicts/lists: EMPTY_DICT, SETITEMS, EMPTY_LIST,
                    APPENDS.
  py3 protocol 5  : STACK_GLOBAL 'numpy._core.numeric _frombuffer' with the
                    data in-band as BYTEARRAY8 (PickleBuffer), order 'C'/'F'.
  py2 protocol 0  : GLOBAL 'numpy.core.multiarray _reconstruct', PUT 'p<n>\\n'
                    (memo starts at 1, like cPickle), INT, INT 00/01 for bools,
                    STRING with a repr-quoted literal ('...' or "...", with
                    \\xNN, \\t, \\n, \\r, \\', \\\\ escapes).
  py2 protocol 1  : BININT1/BININT, SHORT_BINSTRING 'U' / BINSTRING 'T',
                    BINPUT, MARK...TUPLE, INT 00/01 for bools.
  py2 protocol 2  : PROTO 2, TUPLE1/2/3, NEWFALSE/NEWTRUE, SHORT_BINSTRING /
                    BINSTRING; cifar*: EMPTY_DICT/EMPTY_LIST, SETITEMS,
                    APPENDS, BININT2.
"""

import gzip
import io
import json
import os
import pickle
import pickletools
import struct
import sys
import warnings
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PICKLE_DIR = os.path.join(HERE, "pickle")
IDX_DIR = os.path.join(HERE, "idx")
DEFAULT_SHAPE = (2, 3, 4)


# ---------------------------------------------------------------------------
# Expected values
# ---------------------------------------------------------------------------

def formula(kind, n):
    """Flat list (Python ints/floats) of the expected values for `kind`."""
    r = range(n)
    if kind == "u1":
        return [(i * 37) % 256 for i in r]
    if kind == "i1":
        return [((i * 37) % 256) - 128 for i in r]
    if kind == "i2":
        return [i * 1000 - 12000 for i in r]
    if kind == "i4":
        return [i * 100000 - 1200000 for i in r]
    if kind == "i8":
        return [i * 10000000000 - 120000000000 for i in r]
    if kind in ("f4", "f8"):
        return [i * 0.5 - 3.25 for i in r]
    raise ValueError(kind)


def make_array(kind, shape=DEFAULT_SHAPE, byteorder="<", fortran=False):
    n = int(np.prod(shape, dtype=np.int64))
    dt = np.dtype(kind).newbyteorder(byteorder) if kind not in ("u1", "i1") \
        else np.dtype(kind)
    a = np.array(formula(kind, n), dtype=dt).reshape(shape)
    if fortran:
        a = np.asfortranarray(a)
    return a


# ---------------------------------------------------------------------------
# Python 2.7 cPickle emulation
# ---------------------------------------------------------------------------

class Py2Str(bytes):
    """A Python 2 `str` (byte string)."""


class Py2Pickler:
    """Emit pickles byte-for-byte the way Python 2.7's cPickle did, for the few
    object kinds we need: None, bool, int, str (bytes), tuple, list, dict (as a
    list of pairs, order preserved) and NumPy 1.x ndarrays.

    cPickle details reproduced here:
      * memo indices start at 1 (pickle.py starts at 0);
      * strings shorter than 2 bytes are never memoized; the other strings
        only when something else references them (we memoize dict keys and
        list/dict string values, but not NumPy's internal temporaries such as
        the dtype name 'u1' or the raw data string, which have refcount 1);
      * tuples with refcount 1 (all of ours) are not memoized; non-empty
        lists/dicts always are;
      * bools are NEWTRUE/NEWFALSE at protocol 2 and 'I01\\n'/'I00\\n' below;
      * ints are BININT1/BININT2/BININT when binary, 'I<n>\\n' at protocol 0;
      * str is STRING (repr) at protocol 0, SHORT_BINSTRING (<256 bytes) or
        BINSTRING otherwise;
      * NumPy 1.x ndarray.__reduce__ is
          (numpy.core.multiarray._reconstruct, (ndarray, (0,), 'b'),
           (1, shape, dtype, is_fortran, rawdata_str))
        and dtype.__reduce__ is
          (numpy.dtype, ('u1', 0, 1), (3, '|', None, None, None, -1, -1, 0)).
    """

    def __init__(self, proto):
        assert proto in (0, 1, 2)
        self.proto = proto
        self.bin = proto >= 1
        self.out = bytearray()
        self.memo = 1

    # -- primitives --------------------------------------------------------
    def w(self, b):
        self.out += b

    def put(self):
        n = self.memo
        self.memo += 1
        if not self.bin:
            self.w(b"p%d\n" % n)
        elif n < 256:
            self.w(b"q" + bytes([n]))
        else:
            self.w(b"r" + struct.pack("<i", n))

    def save_none(self):
        self.w(b"N")

    def save_bool(self, v):
        if self.proto >= 2:
            self.w(b"\x88" if v else b"\x89")
        else:
            self.w(b"I01\n" if v else b"I00\n")

    def save_int(self, v):
        if not self.bin or v > 0x7FFFFFFF or v < -0x80000000:
            self.w(b"I%d\n" % v)
        elif 0 <= v <= 0xFF:
            self.w(b"K" + bytes([v]))
        elif 0 <= v <= 0xFFFF:
            self.w(b"M" + struct.pack("<H", v))
        else:
            self.w(b"J" + struct.pack("<i", v))

    def save_str(self, s, memo=True):
        s = bytes(s)
        if not self.bin:
            # Python 2 repr(str) == Python 3 repr(bytes) minus the leading b.
            self.w(b"S" + repr(s)[1:].encode("ascii") + b"\n")
        elif len(s) < 256:
            self.w(b"U" + bytes([len(s)]) + s)
        else:
            self.w(b"T" + struct.pack("<i", len(s)) + s)
        if memo and len(s) >= 2:
            self.put()

    def save_global(self, module, name):
        self.w(b"c" + module + b"\n" + name + b"\n")
        self.put()

    def save_tuple(self, items):
        if len(items) == 0:
            self.w(b")" if self.bin else b"(t")
            return
        if self.proto >= 2 and len(items) <= 3:
            for it in items:
                self.save(it)
            self.w({1: b"\x85", 2: b"\x86", 3: b"\x87"}[len(items)])
            return
        self.w(b"(")
        for it in items:
            self.save(it)
        self.w(b"t")

    def save_list(self, items):
        if self.bin:
            self.w(b"]")
        else:
            self.w(b"(l")
        self.put()
        if not self.bin:
            for it in items:
                self.save(it)
                self.w(b"a")
        elif len(items) == 1:
            self.save(items[0])
            self.w(b"a")
        elif len(items) > 1:
            assert len(items) <= 1000
            self.w(b"(")
            for it in items:
                self.save(it)
            self.w(b"e")

    def save_dict(self, pairs):
        if self.bin:
            self.w(b"}")
        else:
            self.w(b"(d")
        self.put()
        if not self.bin:
            for k, v in pairs:
                self.save(k)
                self.save(v)
                self.w(b"s")
        elif len(pairs) == 1:
            self.save(pairs[0][0])
            self.save(pairs[0][1])
            self.w(b"s")
        elif len(pairs) > 1:
            self.w(b"(")
            for k, v in pairs:
                self.save(k)
                self.save(v)
            self.w(b"u")

    # -- NumPy 1.x objects -------------------------------------------------
    def save_dtype(self, dt):
        self.save_global(b"numpy", b"dtype")
        name = ("%s%d" % (dt.kind, dt.itemsize)).encode()
        # args tuple ('u1', 0, 1) - plain ints in numpy 1.x on Python 2
        if self.proto >= 2:
            self.save_str(name, memo=False)
            self.save_int(0)
            self.save_int(1)
            self.w(b"\x87")
        else:
            self.w(b"(")
            self.save_str(name, memo=False)
            self.save_int(0)
            self.save_int(1)
            self.w(b"t")
        self.w(b"R")
        self.put()
        endian = dt.byteorder
        if endian == "=":
            endian = "<" if sys.byteorder == "little" else ">"
        # state (3, endian, subarray, names, fields, elsize, alignment, flags)
        self.w(b"(")
        self.save_int(3)
        self.save_str(endian.encode(), memo=False)
        self.w(b"NNN")
        self.save_int(-1)
        self.save_int(-1)
        self.save_int(0)
        self.w(b"t")
        self.w(b"b")

    def save_ndarray(self, a):
        self.save_global(b"numpy.core.multiarray", b"_reconstruct")
        # (ndarray, (0,), 'b')
        if self.proto >= 2:
            self.save_global(b"numpy", b"ndarray")
            self.save_int(0)
            self.w(b"\x85")
            self.save_str(b"b", memo=False)
            self.w(b"\x87")
        else:
            self.w(b"(")
            self.save_global(b"numpy", b"ndarray")
            self.w(b"(")
            self.save_int(0)
            self.w(b"t")
            self.save_str(b"b", memo=False)
            self.w(b"t")
        self.w(b"R")
        self.put()
        is_fortran = bool(a.flags.f_contiguous and not a.flags.c_contiguous)
        data = a.tobytes(order="F" if is_fortran else "C")
        # state (1, shape, dtype, is_fortran, data)
        self.w(b"(")
        self.save_int(1)
        self.save_tuple(list(a.shape))
        self.save_dtype(a.dtype)
        self.save_bool(is_fortran)
        self.save_str(data, memo=False)
        self.w(b"t")
        self.w(b"b")

    # -- dispatch ----------------------------------------------------------
    def save(self, obj):
        if obj is None:
            self.save_none()
        elif isinstance(obj, bool):
            self.save_bool(obj)
        elif isinstance(obj, int):
            self.save_int(obj)
        elif isinstance(obj, (bytes, Py2Str)):
            self.save_str(obj)
        elif isinstance(obj, tuple):
            self.save_tuple(list(obj))
        elif isinstance(obj, Py2Dict):
            self.save_dict(list(obj.pairs))
        elif isinstance(obj, list):
            self.save_list(obj)
        elif isinstance(obj, np.ndarray):
            self.save_ndarray(obj)
        else:
            raise TypeError(type(obj))

    def dumps(self, obj):
        if self.proto >= 2:
            self.w(b"\x80" + bytes([self.proto]))
        self.save(obj)
        self.w(b".")
        return bytes(self.out)


class Py2Dict:
    """An insertion-ordered Python 2 dict (list of (key, value) pairs)."""

    def __init__(self, pairs):
        self.pairs = list(pairs)


def py2_dumps(obj, proto):
    return Py2Pickler(proto).dumps(obj)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def genops(data):
    """Like pickletools.genops, but STRING arguments are returned as raw bytes
    (pickletools decodes them as ASCII and so chokes on Python 2 protocol-0
    data strings, which are arbitrary escaped bytes).  Walking opcodes never
    executes anything, so this is safe on malicious input."""
    f = io.BytesIO(data)
    while True:
        pos = f.tell()
        code = f.read(1)
        if not code:
            raise ValueError("pickle exhausted before seeing STOP")
        op = pickletools.code2op.get(code.decode("latin-1"))
        if op is None:
            raise ValueError("unknown opcode %r at offset %d" % (code, pos))
        if op.arg is None:
            arg = None
        elif op.arg is pickletools.stringnl:
            arg = pickletools.read_stringnl(f, decode=False)
        else:
            arg = op.arg.reader(f)
        yield op, arg, pos
        if code == b".":
            break


def opcodes_of(data):
    """(sorted opcode names, error or None)."""
    names = set()
    err = None
    try:
        for op, _arg, _pos in genops(data):
            names.add(op.name)
    except Exception as e:  # noqa: BLE001 - we record any decode error
        err = "%s: %s" % (type(e).__name__, e)
    return sorted(names), err


def op_offsets(data):
    out = []
    try:
        for op, arg, pos in genops(data):
            out.append((pos, op.name, arg))
    except Exception:  # noqa: BLE001
        pass
    return out


WRITTEN = {}


def write(path, data):
    full = os.path.join(HERE, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as f:
        f.write(data)
    WRITTEN[path] = data
    return data


def expected_list(kind, shape):
    return formula(kind, int(np.prod(shape, dtype=np.int64)))


# ---------------------------------------------------------------------------
# Section 1: good pickles
# ---------------------------------------------------------------------------

def array_entry(path, a, kind, protocol, form, data):
    ops, err = opcodes_of(data)
    assert err is None, (path, err)
    is_fortran = bool(a.flags.f_contiguous and not a.flags.c_contiguous)
    return {
        "file": path,
        "dtype": kind,
        "byteorder": a.dtype.byteorder if a.dtype.byteorder != "=" else
        ("<" if sys.byteorder == "little" else ">"),
        "shape": list(a.shape),
        "fortran": is_fortran,
        "protocol": protocol,
        "form": form,
        "opcodes": ops,
        "expected": expected_list(kind, a.shape),
    }


def gen_arrays():
    entries = []

    def py3(name, a, kind, p):
        path = "pickle/" + name
        data = write(path, pickle.dumps(a, protocol=p))
        entries.append(array_entry(path, a, kind, p, "py3", data))

    def py2(name, a, kind, p):
        path = "pickle/" + name
        data = write(path, py2_dumps(a, p))
        entries.append(array_entry(path, a, kind, p, "py2", data))

    # (a) u1 at every Python 3 protocol
    u1 = make_array("u1")
    for p in range(6):
        py3("u1_p%d.pkl" % p, u1, "u1", p)

    # (b) every dtype, both byte orders, protocols 2 and 4.
    # NB: for 1-byte dtypes NumPy normalises '<'/'>' to '|', so the i1 "be"
    # files are byte-identical to the "le" ones (kept so the matrix is full).
    for kind in ("i1", "i2", "i4", "i8", "f4", "f8"):
        for bo, tag in (("<", "le"), (">", "be")):
            a = make_array(kind, byteorder=bo)
            for p in (2, 4):
                py3("%s_%s_p%d.pkl" % (kind, tag, p), a, kind, p)

    # (c) Fortran order (raw bytes in Fortran order; expected in C order)
    f = make_array("f4", fortran=True)
    for p in (2, 4, 5):
        py3("f4_fortran_p%d.pkl" % p, f, "f4", p)

    # (d) empty and 1-D
    py3("u1_empty_0x784_p4.pkl", make_array("u1", shape=(0, 784)), "u1", 4)
    for p in (2, 4):
        py3("f8_1d_p%d.pkl" % p, make_array("f8", shape=(5,)), "f8", p)

    # (e) Python 2.7 cPickle + NumPy 1.x forms
    for p in (0, 1, 2):
        py2("py2_u1_p%d.pkl" % p, u1, "u1", p)
    # 300 bytes -> BINSTRING at protocols 1/2; also contains the bytes ' " \
    # so the protocol-0 STRING literal needs escaping.
    big = make_array("u1", shape=(3, 100))
    for p in (0, 1, 2):
        py2("py2_u1_3x100_p%d.pkl" % p, big, "u1", p)
    py2("py2_i2_p2.pkl", make_array("i2"), "i2", 2)
    py2("py2_i4_p0.pkl", make_array("i4"), "i4", 0)
    py2("py2_i8_p2.pkl", make_array("i8"), "i8", 2)
    py2("py2_f4_p1.pkl", make_array("f4"), "f4", 1)
    py2("py2_f8_p0.pkl", make_array("f8"), "f8", 0)
    py2("py2_f8_p2.pkl", make_array("f8"), "f8", 2)
    py2("py2_f8_be_p2.pkl", make_array("f8", byteorder=">"), "f8", 2)
    py2("py2_f4_fortran_p2.pkl", make_array("f4", fortran=True), "f4", 2)
    return entries


CIFAR_LABELS = [6, 9, 9, 4]
CIFAR_FILENAMES = [
    "leptodactylus_pentadactylus_s_000004.png",
    "camion_s_000148.png",
    "tipper_truck_s_001250.png",
    "american_elk_s_001521.png",
]
CIFAR_BATCH_LABEL = "training batch 1 of 5"
CIFAR_LABEL_NAMES = ["airplane", "automobile", "bird", "cat", "deer",
                     "dog", "frog", "horse", "ship", "truck"]


def gen_cifar():
    entries = []
    data = make_array("u1", shape=(4, 3072))

    # Python 2 form; key order as in the real data_batch_1 / batches.meta.
    d2 = Py2Dict([
        (b"data", data),
        (b"labels", list(CIFAR_LABELS)),
        (b"batch_label", CIFAR_BATCH_LABEL.encode()),
        (b"filenames", [s.encode() for s in CIFAR_FILENAMES]),
    ])
    path = "pickle/cifar_py2.pkl"
    b = write(path, py2_dumps(d2, 2))
    entries.append({
        "file": path, "form": "py2", "protocol": 2, "keys": "bytes",
        "key_order": ["data", "labels", "batch_label", "filenames"],
        "labels": CIFAR_LABELS, "data_shape": [4, 3072],
        "data_u1_count": 4 * 3072, "data_formula": "u1",
        "batch_label": CIFAR_BATCH_LABEL, "filenames": CIFAR_FILENAMES,
        "opcodes": opcodes_of(b)[0],
    })

    d3 = {"batch_label": CIFAR_BATCH_LABEL, "labels": list(CIFAR_LABELS),
          "data": data, "filenames": list(CIFAR_FILENAMES)}
    path = "pickle/cifar_py3.pkl"
    b = write(path, pickle.dumps(d3, protocol=4))
    entries.append({
        "file": path, "form": "py3", "protocol": 4, "keys": "str",
        "key_order": list(d3.keys()),
        "labels": CIFAR_LABELS, "data_shape": [4, 3072],
        "data_u1_count": 4 * 3072, "data_formula": "u1",
        "batch_label": CIFAR_BATCH_LABEL, "filenames": CIFAR_FILENAMES,
        "opcodes": opcodes_of(b)[0],
    })

    m2 = Py2Dict([
        (b"num_cases_per_batch", 10000),
        (b"label_names", [s.encode() for s in CIFAR_LABEL_NAMES]),
        (b"num_vis", 3072),
    ])
    path = "pickle/cifar_meta_py2.pkl"
    b = write(path, py2_dumps(m2, 2))
    entries.append({
        "file": path, "form": "py2", "protocol": 2, "keys": "bytes",
        "label_names": CIFAR_LABEL_NAMES, "num_cases_per_batch": 10000,
        "num_vis": 3072, "opcodes": opcodes_of(b)[0],
    })
    m3 = {"num_cases_per_batch": 10000, "label_names": list(CIFAR_LABEL_NAMES),
          "num_vis": 3072}
    path = "pickle/cifar_meta_py3.pkl"
    b = write(path, pickle.dumps(m3, protocol=4))
    entries.append({
        "file": path, "form": "py3", "protocol": 4, "keys": "str",
        "label_names": CIFAR_LABEL_NAMES, "num_cases_per_batch": 10000,
        "num_vis": 3072, "opcodes": opcodes_of(b)[0],
    })
    return entries


def gen_dumps():
    entries = []
    n = 3
    px = formula("u1", n * 784)
    u1 = np.array(px, dtype=np.uint8)

    def add(name, a, form, p, scale, error=None):
        path = "pickle/" + name
        b = write(path, pickle.dumps(a, protocol=p) if form == "py3"
                  else py2_dumps(a, p))
        e = {"file": path, "form": form, "protocol": p,
             "dtype": a.dtype.str[1:], "shape": list(a.shape),
             "opcodes": opcodes_of(b)[0]}
        if error is None:
            e.update({"count": n, "scale": scale, "expected_u1": px})
        else:
            e.update({"error": error})
        entries.append(e)

    add("dump_u1_3x784_p2.pkl", u1.reshape(3, 784), "py3", 2, 255)
    add("dump_u1_3x28x28_py2.pkl", u1.reshape(3, 28, 28), "py2", 2, 255)
    add("dump_f4_3x1x28x28_p4.pkl",
        (u1.astype(np.float32) / np.float32(255)).reshape(3, 1, 28, 28),
        "py3", 4, 1)
    add("dump_f8_3x28x28_p5.pkl", u1.astype(np.float64).reshape(3, 28, 28),
        "py3", 5, 255)
    add("dump_bad_u1_3x32x32_p4.pkl",
        np.array(formula("u1", 3 * 1024), dtype=np.uint8).reshape(3, 32, 32),
        "py3", 4, 255, error="wrong image size")
    return entries


# ---------------------------------------------------------------------------
# Section 2: malicious / broken pickles (hand-assembled; never unpickled here)
# ---------------------------------------------------------------------------

def gen_malicious():
    entries = []

    def add(name, data, why, offset, opcode=None):
        path = "pickle/" + name
        write(path, data)
        ops, err = opcodes_of(data)
        entries.append({"file": path, "why": why, "offset": offset,
                        "offending_opcode": opcode, "opcodes": ops,
                        "pickletools_error": err})

    # os.system via GLOBAL + REDUCE (protocol 2). Harmless payload anyway.
    cmd = b"echo LE4NN_FIXTURE_MUST_NOT_RUN"
    data = (b"\x80\x02" + b"cos\nsystem\n" + b"q\x00"
            + b"X" + struct.pack("<I", len(cmd)) + cmd + b"\x85" + b"R" + b".")
    add("evil_os_system.pkl", data, "os.system global", 2, "GLOBAL")

    # builtins.eval via STACK_GLOBAL (protocol 4, framed).
    expr = b"1+1"
    body = (b"\x8c\x08builtins\x94" + b"\x8c\x04eval\x94" + b"\x93\x94"
            + b"\x8c" + bytes([len(expr)]) + expr + b"\x94"
            + b"\x85\x94" + b"R\x94" + b".")
    data = b"\x80\x04" + b"\x95" + struct.pack("<Q", len(body)) + body
    off = [pos for pos, name, _ in op_offsets(data) if name == "STACK_GLOBAL"]
    assert len(off) == 1
    add("evil_builtins_eval.pkl", data, "builtins.eval global (STACK_GLOBAL)",
        off[0], "STACK_GLOBAL")

    # Unknown opcode 0xff after a valid prefix (PROTO 2 + the numpy
    # _reconstruct GLOBAL + BINPUT taken from u1_p2.pkl).
    u1p2 = WRITTEN["pickle/u1_p2.pkl"]
    ops = op_offsets(u1p2)
    cut = ops[3][0]  # offset of the op after PROTO, GLOBAL, BINPUT
    assert [o[1] for o in ops[:3]] == ["PROTO", "GLOBAL", "BINPUT"]
    data = u1p2[:cut] + b"\xff" + b"."
    add("bad_opcode.pkl", data, "unknown opcode 0xff", cut, "0xff")

    # BINBYTES declaring 2**31-1 bytes with only 5 present.
    data = b"\x80\x03" + b"B" + struct.pack("<I", 2**31 - 1) + b"hello" + b"."
    add("bad_length.pkl", data,
        "BINBYTES length 2147483647 exceeds remaining input", 2, "BINBYTES")

    # BINBYTES8 declaring 2**60 bytes.
    data = b"\x80\x04" + b"\x8e" + struct.pack("<Q", 2**60) + b"hello" + b"."
    add("bad_length8.pkl", data,
        "BINBYTES8 length 2**60 exceeds remaining input", 2, "BINBYTES8")

    # 10,000 nested lists: MARK x10000 then LIST x10000 -> [[[...[]...]]]
    depth = 10000
    data = b"\x80\x02" + b"(" * depth + b"l" * depth + b"."
    add("deep_nesting.pkl", data, "10000 nested lists (MARK/LIST)", None,
        None)
    entries[-1]["depth"] = depth

    # First half of u1_p4.pkl.
    u1p4 = WRITTEN["pickle/u1_p4.pkl"]
    data = u1p4[: len(u1p4) // 2]
    add("truncated.pkl", data, "truncated (first half of u1_p4.pkl)", None,
        None)
    entries[-1]["source"] = "pickle/u1_p4.pkl"

    # u1_p2.pkl (unframed) with its final STOP removed.
    assert u1p2.endswith(b".")
    data = u1p2[:-1]
    add("no_stop.pkl", data, "missing STOP (u1_p2.pkl without its last byte)",
        None, None)
    entries[-1]["source"] = "pickle/u1_p2.pkl"
    return entries


# ---------------------------------------------------------------------------
# Section 3: IDX files
# ---------------------------------------------------------------------------

def idx_bytes(magic, dims, payload):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d)
                                               for d in dims) + bytes(payload)


def gen_idx():
    out = {"good": [], "bad": []}
    pixels = formula("u1", 3 * 4 * 5)
    labels = [5, 0, 4]
    img = idx_bytes(0x00000803, [3, 4, 5], pixels)
    lab = idx_bytes(0x00000801, [3], labels)
    write("idx/tiny-images-idx3-ubyte", img)
    write("idx/tiny-labels-idx1-ubyte", lab)
    img_gz = gzip.compress(img, mtime=0)
    write("idx/tiny-images-idx3-ubyte.gz", img_gz)
    write("idx/tiny-labels-idx1-ubyte.gz", gzip.compress(lab, mtime=0))
    for f, comp in (("idx/tiny-images-idx3-ubyte", None),
                    ("idx/tiny-images-idx3-ubyte.gz", "gzip")):
        out["good"].append({"file": f, "compression": comp,
                            "magic": 0x803, "dims": [3, 4, 5],
                            "count": 3, "rows": 4, "cols": 5,
                            "pixels": pixels})
    for f, comp in (("idx/tiny-labels-idx1-ubyte", None),
                    ("idx/tiny-labels-idx1-ubyte.gz", "gzip")):
        out["good"].append({"file": f, "compression": comp,
                            "magic": 0x801, "dims": [3], "count": 3,
                            "labels": labels})

    def bad(name, data, why, **kw):
        write("idx/" + name, data)
        e = {"file": "idx/" + name, "why": why}
        e.update(kw)
        out["bad"].append(e)

    bad("bad-magic-idx3-ubyte", idx_bytes(0x00000804, [3, 4, 5], pixels),
        "magic 0x00000804 (rank 4) where an images file (0x00000803) is "
        "expected; only 3 dims follow", magic=0x804)
    bad("truncated-images-idx3-ubyte",
        idx_bytes(0x00000803, [3, 4, 5], pixels[:50]),
        "header declares 3x4x5 = 60 pixel bytes, only 50 (2.5 images) present",
        magic=0x803, dims=[3, 4, 5], payload_bytes=50)
    bad("count-mismatch-labels-idx1-ubyte",
        idx_bytes(0x00000801, [2], labels[:2]),
        "valid labels file with 2 labels; pair with tiny-images (3 images)",
        magic=0x801, dims=[2], labels=labels[:2],
        pair_with="idx/tiny-images-idx3-ubyte")
    bad("wrong-rank-idx1-as-images",
        idx_bytes(0x00000802, [3, 20], pixels),
        "magic 0x00000802 (rank 2, 3x20) used as an images file",
        magic=0x802, dims=[3, 20])

    # Damaged deflate stream, header and trailer intact. We pick (deterministi-
    # cally) the first byte in the middle third of the deflate data which, set
    # to 0xff, makes zlib itself report a data error (not merely a CRC
    # mismatch), so decoders that skip the CRC check still fail.
    hdr = 10
    deflate_end = len(img_gz) - 8
    chosen = None
    mid_lo = hdr + (deflate_end - hdr) // 3
    mid_hi = hdr + 2 * (deflate_end - hdr) // 3
    for pos in list(range(mid_lo, mid_hi)) + list(range(hdr + 1, deflate_end)):
        for val in (0xFF, 0x00, 0xAA, 0x55):
            if img_gz[pos] == val:
                continue
            cand = bytearray(img_gz)
            cand[pos] = val
            try:
                zlib.decompress(bytes(cand)[hdr:deflate_end], wbits=-15)
            except zlib.error as e:
                if "incorrect data check" not in str(e):
                    chosen = (pos, val, str(e), bytes(cand))
            if chosen:
                break
        if chosen:
            break
    assert chosen, "could not find a corrupting byte"
    pos, val, err, cand = chosen
    bad("corrupt-images-idx3-ubyte.gz", cand,
        "gzip of tiny-images-idx3-ubyte with one deflate byte overwritten; "
        "gzip header and trailer intact", damaged_offset=pos,
        damaged_value=val, zlib_error=err,
        source="idx/tiny-images-idx3-ubyte.gz")
    return out


# ---------------------------------------------------------------------------
# Manifest + self-check
# ---------------------------------------------------------------------------

def to_json(obj, indent=0):
    """Deterministic JSON: nested structure indented, scalar lists on one
    line (keeps the file small)."""
    pad = "  " * indent
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = ["%s  %s: %s" % (pad, json.dumps(k), to_json(v, indent + 1))
                 for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list):
        if all(not isinstance(x, (dict, list)) for x in obj):
            return "[" + ",".join(json.dumps(x) for x in obj) + "]"
        items = [pad + "  " + to_json(v, indent + 1) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(obj)


def load(data, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pickle.loads(data, **kw)


def self_check(manifest):
    for e in manifest["arrays"]:
        data = WRITTEN[e["file"]]
        encs = ("bytes", "latin1") if e["form"] == "py2" else ("ASCII",)
        for enc in encs:
            a = load(data, encoding=enc)
            assert isinstance(a, np.ndarray), e["file"]
            assert list(a.shape) == e["shape"], e["file"]
            assert a.dtype.kind + str(a.dtype.itemsize) == e["dtype"], \
                e["file"]
            assert bool(a.flags.f_contiguous and not a.flags.c_contiguous) \
                == e["fortran"], e["file"]
            exp = np.array(e["expected"], dtype=a.dtype.newbyteorder("="))
            assert np.array_equal(a.ravel(order="C"), exp), e["file"]
            assert a.ravel().tolist() == e["expected"], e["file"]
    for e in manifest["dumps"]:
        data = WRITTEN[e["file"]]
        encs = ("bytes", "latin1") if e["form"] == "py2" else ("ASCII",)
        for enc in encs:
            a = load(data, encoding=enc)
            if "error" in e:
                assert a.shape[-2:] != (28, 28)
                continue
            assert a.shape[0] == e["count"]
            px = np.rint(a.astype(np.float64).reshape(e["count"], 784)
                         * (255 / e["scale"])).astype(np.int64)
            assert px.ravel().tolist() == e["expected_u1"], e["file"]
    for e in manifest["cifar"]:
        data = WRITTEN[e["file"]]
        encs = ("bytes", "latin1") if e["form"] == "py2" else ("ASCII",)
        for enc in encs:
            d = load(data, encoding=enc)
            k = (lambda s: s.encode()) if (e["keys"] == "bytes"
                                           and enc == "bytes") else str
            s = (lambda v: v.decode()) if enc == "bytes" and e["form"] == "py2" \
                else (lambda v: v)
            if "label_names" in e:
                assert [s(x) for x in d[k("label_names")]] == e["label_names"]
                assert d[k("num_vis")] == e["num_vis"]
                continue
            assert [kk if isinstance(kk, str) else kk.decode()
                    for kk in d.keys()] == e["key_order"], e["file"]
            assert d[k("labels")] == e["labels"]
            assert s(d[k("batch_label")]) == e["batch_label"]
            assert [s(x) for x in d[k("filenames")]] == e["filenames"]
            a = d[k("data")]
            assert a.dtype == np.uint8 and list(a.shape) == e["data_shape"]
            assert a.ravel().tolist() == formula("u1", e["data_u1_count"])
    for e in manifest["malicious"]:
        assert e["opcodes"] or e["pickletools_error"], e["file"]
    idx = manifest["idx"]
    raw = WRITTEN["idx/tiny-images-idx3-ubyte"]
    assert gzip.decompress(WRITTEN["idx/tiny-images-idx3-ubyte.gz"]) == raw
    try:
        gzip.decompress(WRITTEN["idx/corrupt-images-idx3-ubyte.gz"])
        raise AssertionError("corrupt gzip decompressed")
    except (zlib.error, OSError, EOFError):
        pass
    assert idx["good"][0]["pixels"] == list(raw[16:])


def main():
    arrays = gen_arrays()
    cifar = gen_cifar()
    dumps = gen_dumps()
    malicious = gen_malicious()
    idx = gen_idx()
    manifest = {
        "generator": "Tests/Fixtures/make_fixtures.py",
        "formulas": {
            "u1": "(i*37) % 256", "i1": "((i*37) % 256) - 128",
            "i2": "i*1000 - 12000", "i4": "i*100000 - 1200000",
            "i8": "i*10000000000 - 120000000000",
            "f4": "i*0.5 - 3.25", "f8": "i*0.5 - 3.25",
        },
        "arrays": arrays,
        "dumps": dumps,
        "cifar": cifar,
        "malicious": malicious,
        "idx": idx,
    }
    self_check(manifest)
    # Per-file opcode lists are kept in the manifest only for the malicious /
    # broken pickles (to keep the manifest small); `--opcodes` prints them all.
    opcode_table = []
    for section in ("arrays", "dumps", "cifar", "malicious"):
        for e in manifest[section]:
            opcode_table.append((e["file"], e["opcodes"]))
            if section != "malicious":
                del e["opcodes"]
    if "--opcodes" in sys.argv[1:]:
        for f, ops in opcode_table:
            print("%s: %s" % (f, " ".join(ops)))
    text = to_json(manifest) + "\n"
    with open(os.path.join(HERE, "manifest.json"), "w", encoding="ascii",
              newline="\n") as f:
        f.write(text)
    total = sum(len(v) for v in WRITTEN.values()) + len(text)
    print("wrote %d fixture files + manifest.json (%d bytes total)"
          % (len(WRITTEN), total))


if __name__ == "__main__":
    main()
