"""Writes and prints small float32 .npy files for the lit tests (numpy is
not a dependency): `npy.py write FILE D0xD1 V0 V1 ...`, `npy.py print FILE`,
and `npy.py header FILE TEXT` (a file with the header dict TEXT and no data,
for malformed-file tests)."""
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

def show(path):
    data = open(path, "rb").read()
    length = struct.unpack("<H", data[8:10])[0]
    header = ast.literal_eval(data[10:10 + length].decode())
    count = len(data[10 + length:]) // 4
    values = struct.unpack("<%df" % count, data[10 + length:])
    print(list(header["shape"]), " ".join("%g" % round(v, 4) for v in values))

def header_only(path, text):
    text += "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode())

if sys.argv[1] == "write":
    write(sys.argv[2], sys.argv[3], sys.argv[4:])
elif sys.argv[1] == "header":
    header_only(sys.argv[2], sys.argv[3])
else:
    show(sys.argv[2])
