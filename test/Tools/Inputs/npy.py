"""Writes and prints small float32 .npy files for the lit tests (numpy is
not a dependency): `npy.py write FILE D0xD1 V0 V1 ...`, `npy.py print FILE`,
`npy.py header FILE TEXT` (a file with the header dict TEXT and no data,
for malformed-file tests), `npy.py random FILE D0xD1 SEED` (values in
[-1, 1)) and `npy.py close A B TOL` (prints whether A and B have one shape
and differ by at most TOL times their largest magnitude)."""
import ast
import struct
import sys

def write(path, shape, values):
    dims = tuple(int(d) for d in shape.split("x")) if shape else ()
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % (dims,)
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack("<%df" % len(values), *[float(v) for v in values]))

def read(path):
    data = open(path, "rb").read()
    length = struct.unpack("<H", data[8:10])[0]
    header = ast.literal_eval(data[10:10 + length].decode())
    count = len(data[10 + length:]) // 4
    return list(header["shape"]), struct.unpack("<%df" % count, data[10 + length:])

def show(path):
    shape, values = read(path)
    print(shape, " ".join("%g" % round(v, 4) for v in values))

def close(a, b, tol):
    (sa, va), (sb, vb) = read(a), read(b)
    scale = max([1.0] + [abs(v) for v in va + vb])
    worst = max([abs(x - y) for x, y in zip(va, vb)] + [0.0])
    print("close" if sa == sb and worst <= float(tol) * scale
          else "differ: shapes %s %s, largest difference %g" % (sa, sb, worst))

def header_only(path, text):
    text += "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode())

if sys.argv[1] == "write":
    write(sys.argv[2], sys.argv[3], sys.argv[4:])
elif sys.argv[1] == "random":
    import random
    random.seed(int(sys.argv[4]))
    count = 1
    for d in sys.argv[3].split("x"):
        count *= int(d)
    write(sys.argv[2], sys.argv[3], [random.uniform(-1, 1) for _ in range(count)])
elif sys.argv[1] == "close":
    close(sys.argv[2], sys.argv[3], sys.argv[4])
elif sys.argv[1] == "header":
    header_only(sys.argv[2], sys.argv[3])
else:
    show(sys.argv[2])
