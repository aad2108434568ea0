#!/usr/bin/env python3
"""Generate PayPortal's logo, favicons and PWA icons into ``assets/``.

The mark is an indigo (#4f46e5) rounded square holding a white geometric "P"
(a round-capped stroke: a stem, a short top bar and an open circular bowl).  The
geometry lives in one place below and is used both to write the SVGs and to
draw the PNG/ICO rasters with Pillow, so every output stays in sync.

Outputs (relative to the repository root)::

    assets/logo.svg                      the mark, vector
    assets/favicon.svg                   same mark, used as the SVG favicon
    assets/favicon.ico                   16, 32 and 48 px frames
    assets/apple-touch-icon.png          180x180, opaque full-bleed indigo
    assets/icons/icon-192.png            purpose "any" (transparent corners)
    assets/icons/icon-512.png            purpose "any" (transparent corners)
    assets/icons/icon-maskable-192.png   purpose "maskable" (full bleed,
    assets/icons/icon-maskable-512.png   glyph inside the 80% safe zone)

Usage::

    python scripts/make_icons.py            # (re)write the files
    python scripts/make_icons.py --check    # exit 1 if any file is stale

Only Pillow is needed, and only to run this script; it is not a runtime
dependency of the app (``pip install Pillow`` into the venv if missing).
Output is deterministic: no timestamps or other metadata are written.
"""

from __future__ import annotations

import argparse
import io
import math
import sys
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"

BRAND = "#4f46e5"  # indigo-600
GLYPH = "#ffffff"

# --------------------------------------------------------------------------
# Geometry, in a 512 x 512 design space.
# --------------------------------------------------------------------------
DESIGN = 512
CORNER_RADIUS = 112  # rounded-square corner radius for the logo / "any" icons

STROKE = 60  # stroke width of the "P"; caps and joins are round
BAR = 78  # length of the straight top bar of the bowl (stem -> arc start)
BOWL_R = 70  # centre-line radius of the bowl's circular arc
STEM = 256  # centre-line length of the stem (top join -> bottom cap centre)
# The bowl is open: it sweeps clockwise from the end of the top bar (-90 deg)
# and stops in a round cap at this angle (0 = 3 o'clock, 90 = 6 o'clock).
# With BAR > STROKE that leaves a gap of (BAR - STROKE) before the stem, which
# gives the mark its character (and keeps it from reading as a parking sign).
BOWL_END_DEG = 90

# Bounding box of the stroked glyph, relative to the stem's top join point.
_GLYPH_W = BAR + BOWL_R + STROKE  # stem outer edge -> bowl outer edge
_GLYPH_H = STEM + STROKE

# Place the glyph so its bounding box is centred in the design square.
STEM_X = (DESIGN - _GLYPH_W) / 2 + STROKE / 2
TOP_Y = (DESIGN - _GLYPH_H) / 2 + STROKE / 2
BOTTOM_Y = TOP_Y + STEM
ARC_CX = STEM_X + BAR
ARC_CY = TOP_Y + BOWL_R
BOWL_END_X = ARC_CX + BOWL_R * math.cos(math.radians(BOWL_END_DEG))
BOWL_END_Y = ARC_CY + BOWL_R * math.sin(math.radians(BOWL_END_DEG))

# Maskable icons: the glyph is scaled by this factor about the centre. The
# whole glyph must lie inside the centred circle of radius 40% of the icon
# (the W3C "minimum safe zone"); this is asserted below.
MASKABLE_GLYPH_SCALE = 0.9
SAFE_ZONE_RADIUS = 0.40 * DESIGN

# Supersampling factor used for antialiasing when drawing rasters.
SUPERSAMPLE = 8


def _fmt(v: float) -> str:
    return f"{round(v, 2):g}"


def glyph_path_d() -> str:
    """SVG path data (centre line) for the "P"; stroke it with STROKE."""
    # Arc end point is irrational; 2 decimals are far below a pixel.
    return (
        f"M{_fmt(STEM_X)} {_fmt(BOTTOM_Y)}"
        f"V{_fmt(TOP_Y)}"
        f"H{_fmt(ARC_CX)}"
        f"A{_fmt(BOWL_R)} {_fmt(BOWL_R)} 0 0 1 {_fmt(BOWL_END_X)} {_fmt(BOWL_END_Y)}"
    )


def logo_svg() -> str:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512" '
        'width="512" height="512" role="img" aria-label="PayPortal">\n'
        f'  <rect width="512" height="512" rx="{CORNER_RADIUS}" fill="{BRAND}"/>\n'
        f'  <path d="{glyph_path_d()}" fill="none" stroke="{GLYPH}" '
        f'stroke-width="{STROKE}" stroke-linecap="round" stroke-linejoin="round"/>\n'
        "</svg>\n"
    )


def glyph_max_radius() -> float:
    """Largest distance from the design centre to any painted glyph pixel."""
    c = DESIGN / 2
    half = STROKE / 2
    # Round caps/joins at the stem ends.
    ends = max(math.hypot(STEM_X - c, y - c) + half for y in (TOP_Y, BOTTOM_Y))
    # Bowl: outer edge of the arc, plus its round end cap.
    bowl = math.hypot(BOWL_END_X - c, BOWL_END_Y - c) + half
    for i in range(0, 90 + BOWL_END_DEG + 1):
        a = math.radians(-90 + i)
        x = ARC_CX + (BOWL_R + half) * math.cos(a)
        y = ARC_CY + (BOWL_R + half) * math.sin(a)
        bowl = max(bowl, math.hypot(x - c, y - c))
    return max(ends, bowl)


# --------------------------------------------------------------------------
# Raster drawing.
# --------------------------------------------------------------------------
def _glyph_mask(px: int, scale: float) -> Image.Image:
    """8-bit mask of the glyph at ``px`` pixels (already supersampled).

    ``scale`` shrinks/grows the glyph about the centre of the canvas.
    """
    k = px / DESIGN

    def t(v: float) -> float:  # design coordinate -> pixel coordinate
        return (DESIGN / 2 + (v - DESIGN / 2) * scale) * k

    half = STROKE / 2 * scale * k
    sx, ty, by = t(STEM_X), t(TOP_Y), t(BOTTOM_Y)
    acx, acy = t(ARC_CX), t(ARC_CY)
    ex, ey = t(BOWL_END_X), t(BOWL_END_Y)
    r = BOWL_R * scale * k

    mask = Image.new("L", (px, px), 0)
    d = ImageDraw.Draw(mask)
    # Stem with round cap (bottom) and round join (top).
    d.rectangle((sx - half, ty, sx + half, by), fill=255)
    d.ellipse((sx - half, ty - half, sx + half, ty + half), fill=255)
    d.ellipse((sx - half, by - half, sx + half, by + half), fill=255)
    # Top bar of the bowl, and the round cap where the bowl ends.
    d.rectangle((sx, ty - half, acx, ty + half), fill=255)
    d.ellipse((ex - half, ey - half, ex + half, ey + half), fill=255)

    # The bowl: a ring clipped to the sweep from -90 deg to BOWL_END_DEG.
    ring = Image.new("L", (px, px), 0)
    rd = ImageDraw.Draw(ring)
    ro, ri = r + half, r - half
    rd.ellipse((acx - ro, acy - ro, acx + ro, acy + ro), fill=255)
    rd.ellipse((acx - ri, acy - ri, acx + ri, acy + ri), fill=0)
    sweep = Image.new("L", (px, px), 0)
    big = ro * 2  # pie radius comfortably larger than the ring
    ImageDraw.Draw(sweep).pieslice(
        (acx - big, acy - big, acx + big, acy + big), -90, BOWL_END_DEG, fill=255
    )
    return ImageChops.lighter(mask, ImageChops.multiply(ring, sweep))


def render(size: int, *, full_bleed: bool, glyph_scale: float = 1.0) -> Image.Image:
    """Render the mark as an RGBA image of ``size`` x ``size`` pixels.

    full_bleed=False: rounded square with transparent corners.
    full_bleed=True: the indigo fills the whole canvas (opaque).
    """
    px = size * SUPERSAMPLE
    bg_mask = Image.new("L", (px, px), 0)
    if full_bleed:
        bg_mask.paste(255, (0, 0, px, px))
    else:
        ImageDraw.Draw(bg_mask).rounded_rectangle(
            (0, 0, px - 1, px - 1), radius=CORNER_RADIUS * px / DESIGN, fill=255
        )

    img = Image.new("RGBA", (px, px), (0, 0, 0, 0))
    img.paste(Image.new("RGBA", (px, px), BRAND), (0, 0), bg_mask)
    img.paste(Image.new("RGBA", (px, px), GLYPH), (0, 0), _glyph_mask(px, glyph_scale))
    img = img.resize((size, size), Image.Resampling.LANCZOS)
    if full_bleed:
        img = img.convert("RGB")
    return img


def _png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _ico_bytes() -> bytes:
    frames = [render(s, full_bleed=False) for s in (48, 32, 16)]
    buf = io.BytesIO()
    # The first image must be the largest; Pillow matches the others by size.
    frames[0].save(
        buf,
        format="ICO",
        sizes=[(48, 48), (32, 32), (16, 16)],
        append_images=frames[1:],
    )
    return buf.getvalue()


def build() -> dict[Path, bytes]:
    """Return {path: content} for every generated file."""
    limit = SAFE_ZONE_RADIUS / MASKABLE_GLYPH_SCALE
    if glyph_max_radius() > limit:
        raise SystemExit(
            f"maskable glyph leaves the safe zone: {glyph_max_radius():.1f} > {limit:.1f}"
        )

    svg = logo_svg().encode()
    out: dict[Path, bytes] = {
        ASSETS / "logo.svg": svg,
        ASSETS / "favicon.svg": svg,
        ASSETS / "favicon.ico": _ico_bytes(),
        ASSETS / "apple-touch-icon.png": _png_bytes(render(180, full_bleed=True)),
    }
    for size in (192, 512):
        out[ASSETS / "icons" / f"icon-{size}.png"] = _png_bytes(render(size, full_bleed=False))
        out[ASSETS / "icons" / f"icon-maskable-{size}.png"] = _png_bytes(
            render(size, full_bleed=True, glyph_scale=MASKABLE_GLYPH_SCALE)
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 if any generated file is missing or differs",
    )
    args = parser.parse_args(argv)

    stale = []
    for path, data in build().items():
        rel = path.relative_to(ROOT)
        current = path.read_bytes() if path.exists() else None
        if current == data:
            print(f"unchanged {rel}")
            continue
        if args.check:
            stale.append(rel)
            print(f"STALE     {rel}")
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"wrote     {rel} ({len(data)} bytes)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
