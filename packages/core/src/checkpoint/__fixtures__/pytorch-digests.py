"""Writes pytorch-digests.json: for every pytorch_model.bin fixture, each key's dtype, shape and the sha256 of its
values (C order, little-endian), read with Python's own zipfile and pickle modules and numpy, independently of
ortvision's reader. Torch is not needed: torch's globals are stood in for by small functions (find_class), which
is safe here because these are our own fixtures.

    python3 pytorch-digests.py ../../../../../fixtures > pytorch-digests.json
"""
import collections
import hashlib
import json
import os
import pickle
import sys
import zipfile

import numpy as np

DTYPES = {"FloatStorage": "<f4", "HalfStorage": "<f2", "DoubleStorage": "<f8", "LongStorage": "<i8",
          "IntStorage": "<i4", "ShortStorage": "<i2", "CharStorage": "i1", "ByteStorage": "u1", "BoolStorage": "?"}
NAMES = {"<f4": "float32", "<f2": "float16", "<f8": "float64", "<i8": "int64", "<i4": "int32", "<i2": "int16",
         "|i1": "int8", "|u1": "uint8", "|b1": "bool"}


def load(path):
    archive = zipfile.ZipFile(path)
    pkl = next(n for n in archive.namelist() if n.endswith("/data.pkl"))
    root = pkl[: -len("data.pkl")]

    def rebuild(storage, offset, size, stride, *_):
        dtype, key = storage
        flat = np.frombuffer(archive.read(root + "data/" + key), dtype=dtype)
        view = np.lib.stride_tricks.as_strided(flat[offset:], shape=size, strides=[s * flat.itemsize for s in stride])
        return view.copy(order="C")  # not np.ascontiguousarray, which turns a 0-d scalar into shape [1]

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if (module, name) == ("collections", "OrderedDict"):
                return collections.OrderedDict
            if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                return rebuild
            if module == "torch" and name in DTYPES:
                return DTYPES[name]
            raise pickle.UnpicklingError(f"{module}.{name}")

        def persistent_load(self, pid):
            _, dtype, key, _location, _numel = pid
            return dtype, key

    return Unpickler(archive.open(pkl)).load()


root = sys.argv[1]
out = {}
for fixture in sorted(os.listdir(root)):
    path = os.path.join(root, fixture, "pytorch_model.bin")
    if not os.path.isfile(path):
        continue
    out[fixture] = {
        key: {"dtype": NAMES[value.dtype.str], "shape": list(value.shape),
              "sha256": hashlib.sha256(value.tobytes()).hexdigest()}
        for key, value in load(path).items()
    }
# One weight per line, so that a diff of this file reads as a list of changed weights.
lines = []
for fixture, weights in out.items():
    body = ",\n".join(f"  {json.dumps(key)}: {json.dumps(value)}" for key, value in weights.items())
    lines.append(f" {json.dumps(fixture)}: {{\n{body}\n }}")
sys.stdout.write("{\n" + ",\n".join(lines) + "\n}\n")
