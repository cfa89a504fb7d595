"""Writes small images in the modes PIL converts specially, with PIL's load_image result for each.

Run with Pillow 9.4.0 + numpy (see README.md): /usr/bin/python3 make_decode_refs.py
Outputs decode-<name>.png/.jpg/.gif and decode-refs.json: {name: {file, mode, width, height, rgb: [flat uint8]}}
where rgb is np.asarray(ImageOps.exif_transpose(Image.open(file)).convert("RGB")).
"""
import json
import struct
import zlib

import numpy as np
from PIL import Image, ImageOps

rng = np.random.default_rng(5)


def png(path, arr, colortype, bitdepth):
    """A minimal PNG writer, because PIL cannot write 16-bit RGB(A) or 16-bit gray+alpha."""
    h, w = arr.shape[:2]
    dtype = ">u2" if bitdepth == 16 else "u1"
    raw = b"".join(b"\x00" + arr[y].astype(dtype).tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, bitdepth, colortype, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


gray16 = rng.integers(0, 65536, (5, 7))
gray16[0, :4] = [0, 100, 255, 256]  # PIL clips 16-bit gray to 255 instead of scaling
png("decode-gray16.png", gray16, 0, 16)
png("decode-rgb16.png", rng.integers(0, 65536, (5, 7, 3)), 2, 16)
png("decode-rgba16.png", rng.integers(0, 65536, (5, 7, 4)), 6, 16)
png("decode-graya16.png", rng.integers(0, 65536, (5, 7, 2)), 4, 16)
png("decode-la8.png", rng.integers(0, 256, (5, 7, 2)), 4, 8)
png("decode-rgba8.png", rng.integers(0, 256, (5, 7, 4)), 6, 8)
# a palette image with a transparent index: PIL's convert("RGB") uses the palette colour and ignores transparency
pal = Image.fromarray(rng.integers(0, 4, (5, 7), dtype=np.uint8), "P")
pal.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30])
pal.save("decode-palette-trns.png", transparency=1)
# EXIF orientations that mirror and rotate
base = Image.fromarray(rng.integers(0, 256, (5, 7, 3), dtype=np.uint8))
for orientation in (2, 3, 5, 8):
    exif = Image.Exif()
    exif[0x0112] = orientation
    base.save(f"decode-exif{orientation}.png", exif=exif.tobytes())

refs = {}
for name in ["gray16", "rgb16", "rgba16", "graya16", "la8", "rgba8", "palette-trns", "exif2", "exif3", "exif5", "exif8"]:
    path = f"decode-{name}.png"
    im = Image.open(path)
    mode = im.mode
    rgb = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    refs[name] = {"file": path, "mode": mode, "width": rgb.shape[1], "height": rgb.shape[0], "rgb": rgb.reshape(-1).tolist()}
with open("decode-refs.json", "w") as f:
    json.dump(refs, f)
    f.write("\n")
print({k: (v["mode"], v["width"], v["height"]) for k, v in refs.items()})
