"""Writes PIL-made resampling references for resample.test.ts.

Run with Pillow 9.4.0 (the version the fixtures' refgen used: Debian bookworm's python3-pil) and numpy:
    /usr/bin/python3 make_resample_refs.py
Outputs: resample-refs.json (the cases) and resample-<source>.npy (the source pixels followed by every resized
output of that source, flattened, uint8), so the test needs no image decoder.
"""
import json

import numpy as np
import PIL
from PIL import Image

rng = np.random.default_rng(20240603)


def smooth(h, w, c):
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([(x * 255 / max(w - 1, 1)), (y * 255 / max(h - 1, 1)), ((x + y) * 3) % 256], -1)[..., :c]
    noise = rng.integers(-40, 41, (h, w, c))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


sources = {
    "noise23x17": rng.integers(0, 256, (17, 23, 3), dtype=np.uint8),
    "smooth97x61": smooth(61, 97, 3),
    "row9x1": rng.integers(0, 256, (1, 9, 3), dtype=np.uint8),
    "col1x9": rng.integers(0, 256, (9, 1, 3), dtype=np.uint8),
    "gray40x30": smooth(30, 40, 1)[..., 0],
    "extremes16x16": (rng.integers(0, 2, (16, 16, 3)) * 255).astype(np.uint8),
}
# (width, height) targets per source: upscale, big downscales, 1-pixel edges, odd sizes, one axis unchanged
targets = {
    "noise23x17": [(53, 39), (5, 4), (1, 1), (23, 40), (11, 17), (24, 16), (2, 33)],
    "smooth97x61": [(7, 5), (3, 2), (1, 61), (97, 1), (150, 71), (31, 45), (96, 60)],
    "row9x1": [(4, 1), (20, 1), (9, 5), (3, 3)],
    "col1x9": [(1, 4), (1, 20), (6, 9), (2, 2)],
    "gray40x30": [(13, 9), (81, 59), (40, 7), (3, 30)],
    "extremes16x16": [(37, 37), (5, 7), (16, 3)],
}
filters = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming"}

cases = []
for name, src in sources.items():
    im = Image.fromarray(src)
    chunks = [src.reshape(-1)]
    offset = src.size
    for w, h in targets[name]:
        for code in filters:
            out = np.asarray(im.resize((w, h), resample=code, reducing_gap=None))
            cases.append({"source": name, "resample": code, "width": w, "height": h, "offset": offset})
            chunks.append(out.reshape(-1))
            offset += out.size
    np.save(f"resample-{name}.npy", np.concatenate(chunks))
shapes = {n: {"width": s.shape[1], "height": s.shape[0], "channels": 1 if s.ndim == 2 else s.shape[2]} for n, s in sources.items()}
with open("resample-refs.json", "w") as f:
    json.dump({"pillow": PIL.__version__, "sources": shapes, "cases": cases}, f, indent=0)
    f.write("\n")
print(f"{len(cases)} cases, Pillow {PIL.__version__}")
