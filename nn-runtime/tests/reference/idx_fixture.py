"""Writes a tiny MNIST-layout fixture for nn-runtime/tests/data_files.rs, independently of
the Rust reader: the IDX layout from the MNIST page (big-endian magic 0x00000803 /
0x00000801, big-endian u32 sizes, row-major unsigned bytes), gzipped by Python's gzip
module (whose header carries a file name and a modification time).

Three 2x3 images: image i has pixel (r, c) = 40*i + 10*r + c; labels 7, 0, 9.
Run from the repository root: python3 nn-runtime/tests/reference/idx_fixture.py
"""
import gzip
import os
import struct

out = os.path.join(os.path.dirname(__file__), "..", "data", "idx")
os.makedirs(out, exist_ok=True)
n, rows, cols = 3, 2, 3
pixels = bytes(40 * i + 10 * r + c for i in range(n) for r in range(rows) for c in range(cols))
labels = bytes([7, 0, 9])
images = struct.pack(">IIII", 0x803, n, rows, cols) + pixels
label_file = struct.pack(">II", 0x801, n) + labels

with gzip.GzipFile(os.path.join(out, "train-images-idx3-ubyte.gz"), "wb", mtime=0) as f:
    f.write(images)
with open(os.path.join(out, "train-labels-idx1-ubyte"), "wb") as f:
    f.write(label_file)
with gzip.GzipFile(os.path.join(out, "t10k-images-idx3-ubyte.gz"), "wb", mtime=0) as f:
    f.write(struct.pack(">IIII", 0x803, 1, rows, cols) + pixels[:6])
with gzip.GzipFile(os.path.join(out, "t10k-labels-idx1-ubyte.gz"), "wb", mtime=0) as f:
    f.write(struct.pack(">II", 0x801, 1) + labels[:1])

# The scaled values the loader must produce, p / 255, for the first training image.
print("train image 0 scaled:", [p / 255 for p in pixels[:6]])
print("train image 2 scaled:", [p / 255 for p in pixels[12:18]])
