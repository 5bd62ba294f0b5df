"""Write the app icons (frontend/public/icons/*.png) from the logo's geometry: a teal rounded
square with the white mountain line of the favicon. Pure Python (zlib), run by hand:
`python3 frontend/scripts/make-icons.py`. Apache-2.0, like the code."""

import math
import struct
import zlib
from pathlib import Path

TEAL = (0x0B, 0x5C, 0x55)
WHITE = (0xFF, 0xFF, 0xFF)
# The favicon's path in its 32-unit box: M7 22 13 11 18 19 21 14 25 22, stroke 2.6.
LINE = [(7, 22), (13, 11), (18, 19), (21, 14), (25, 22)]


def _segment_distance(
    px: float, py: float, a: tuple[float, float], b: tuple[float, float]
) -> float:
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def icon(size: int, *, maskable: bool) -> bytes:
    # A maskable icon fills the square (the platform crops it) and keeps the line in the
    # central 80 % safe zone; the plain one has rounded corners.
    inset = 0.1 if maskable else 0.0
    radius = 0.0 if maskable else 7 / 32
    rows = []
    for y in range(size):
        row = bytearray([0])  # filter type 0
        for x in range(size):
            u, v = (x + 0.5) / size, (y + 0.5) / size  # 0..1
            cx, cy = min(u, 1 - u), min(v, 1 - v)
            outside = cx < radius and cy < radius and math.hypot(radius - cx, radius - cy) > radius
            if outside:
                row += bytes((0, 0, 0, 0))
                continue
            # map into the 32-unit box, shrunk by the inset
            s = (u - inset) / (1 - 2 * inset) * 32, (v - inset) / (1 - 2 * inset) * 32
            d = min(_segment_distance(*s, a, b) for a, b in zip(LINE, LINE[1:], strict=False))
            colour = WHITE if d <= 1.3 else TEAL
            row += bytes((*colour, 255))
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


if __name__ == "__main__":
    out = Path(__file__).resolve().parents[1] / "public" / "icons"
    out.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        (out / f"icon-{size}.png").write_bytes(icon(size, maskable=False))
        (out / f"maskable-{size}.png").write_bytes(icon(size, maskable=True))
    print("icons written to", out)  # noqa: T201 - a script run by hand
