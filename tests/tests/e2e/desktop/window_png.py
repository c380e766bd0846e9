"""Saves a PNG of an X window, for a window WebDriver cannot reach (the federated login
window's web view lives in a WebKit context of its own). Reads the pixels with
libX11's XGetImage (ZPixmap, 24-bit TrueColor as Xvfb serves it) and writes them with
zlib: no imaging package is needed.

Usage: python3 window_png.py DISPLAY WINDOW_ID OUT.png
"""

import ctypes, struct, sys, zlib
from ctypes import c_int, c_uint, c_ulong, c_void_p, c_char_p, POINTER

x = ctypes.CDLL("libX11.so.6")
x.XOpenDisplay.restype = c_void_p
x.XOpenDisplay.argtypes = [c_char_p]


class XWindowAttributes(ctypes.Structure):
    _fields_ = [("x", c_int), ("y", c_int), ("width", c_int), ("height", c_int),
                ("border_width", c_int), ("depth", c_int), ("visual", c_void_p),
                ("root", c_ulong), ("class_", c_int), ("bit_gravity", c_int),
                ("win_gravity", c_int), ("backing_store", c_int), ("backing_planes", c_ulong),
                ("backing_pixel", c_ulong), ("save_under", c_int), ("colormap", c_ulong),
                ("map_installed", c_int), ("map_state", c_int), ("all_event_masks", ctypes.c_long),
                ("your_event_mask", ctypes.c_long), ("do_not_propagate_mask", ctypes.c_long),
                ("override_redirect", c_int), ("screen", c_void_p)]


x.XGetWindowAttributes.argtypes = [c_void_p, c_ulong, POINTER(XWindowAttributes)]
x.XGetImage.restype = c_void_p
x.XGetImage.argtypes = [c_void_p, c_ulong, c_int, c_int, c_uint, c_uint, c_ulong, c_int]
x.XGetPixel.restype = c_ulong
x.XGetPixel.argtypes = [c_void_p, c_int, c_int]
x.XDestroyImage = None  # a macro in Xlib; the process exits right after

d = x.XOpenDisplay(sys.argv[1].encode())
if not d:
    sys.exit("cannot open display " + sys.argv[1])
w = int(sys.argv[2], 0)
attrs = XWindowAttributes()
if not x.XGetWindowAttributes(d, w, ctypes.byref(attrs)):
    sys.exit("no such window")
width, height = attrs.width, attrs.height
image = x.XGetImage(d, w, 0, 0, width, height, 0xFFFFFFFF, 2)  # AllPlanes, ZPixmap
if not image:
    sys.exit("XGetImage failed")
rows = bytearray()
for y in range(height):
    rows.append(0)
    for xx in range(width):
        p = x.XGetPixel(image, xx, y)
        rows += bytes(((p >> 16) & 255, (p >> 8) & 255, p & 255))


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
png += chunk(b"IDAT", zlib.compress(bytes(rows), 6)) + chunk(b"IEND", b"")
with open(sys.argv[3], "wb") as f:
    f.write(png)
