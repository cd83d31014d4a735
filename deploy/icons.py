"""Draw the app's icons (webapp/static/icons/) with Pillow.

    .venv/bin/python deploy/icons.py

The PNGs are committed, so the app needs no build step; run this again only to change
the design. The mark is the character 修 (repair) in white on the header's navy, with
an orange roof line over it: bold and few shapes, so it reads at 48 px. Needs Debian's
fonts-noto-cjk (`make system-deps`).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from webapp.views.install import APPLE_TOUCH_ICON, FAVICON, ICONS, THEME_COLOR

OUT = Path(__file__).resolve().parent.parent / "webapp" / "static"
ACCENT = "#f4a261"  # the header's current-link underline
FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
SC = 2  # Noto Sans CJK SC inside the collection (JP, KR, SC, TC, HK)
SUPERSAMPLE = 4  # shapes are drawn large and scaled down, for smooth edges


def font_file() -> str:
    if Path(FONT).exists():
        return FONT
    found = subprocess.run(["fc-match", "-f", "%{file}", "Noto Sans CJK SC:bold"],
                           capture_output=True, text=True, check=True).stdout
    if "CJK" not in found:
        raise SystemExit("Noto Sans CJK is missing: apt-get install fonts-noto-cjk")
    return found


def mark(size: int, scale: float) -> Image.Image:
    """The roof and 修 on a transparent square, fitting a centred square of
    `scale` × size."""
    big = size * SUPERSAMPLE
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    box = big * scale  # the mark's square
    left, top = (big - box) / 2, (big - box) / 2
    # Roof: a wide chevron across the top fifth.
    line = box * 0.08
    peak = (big / 2, top + box * 0.02)
    eaves = [(left + box * 0.04, top + box * 0.24), (left + box * 0.96, top + box * 0.24)]
    draw.line([eaves[0], peak, eaves[1]], fill=ACCENT, width=round(line), joint="curve")
    for x, y in (eaves[0], eaves[1], peak):
        draw.ellipse([x - line / 2, y - line / 2, x + line / 2, y + line / 2], fill=ACCENT)
    # The character under the roof.
    glyph = ImageFont.truetype(font_file(), round(box * 0.74), index=SC)
    draw.text((big / 2, top + box * 0.62), "修", font=glyph, fill="white", anchor="mm")
    return img.resize((size, size), Image.Resampling.LANCZOS)


def background(size: int, radius: float) -> Image.Image:
    """The navy square; corners rounded by `radius` × size (0: full bleed)."""
    big = size * SUPERSAMPLE
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    ImageDraw.Draw(img).rounded_rectangle([0, 0, big - 1, big - 1], radius=round(big * radius),
                                          fill=THEME_COLOR)
    return img.resize((size, size), Image.Resampling.LANCZOS)


def icon(size: int, purpose: str) -> Image.Image:
    if purpose == "maskable":
        # Full bleed; the mark inside the safe zone (a circle of 80 % of the size).
        img = background(size, 0)
        img.alpha_composite(mark(size, 0.6))
        return img.convert("RGB")
    img = background(size, 0.18)
    img.alpha_composite(mark(size, 0.78))
    return img


def main() -> None:
    (OUT / "icons").mkdir(exist_ok=True)
    drawn = [(name, icon(size, purpose)) for name, size, purpose in ICONS]
    name, size = APPLE_TOUCH_ICON
    # Opaque (iOS shows transparency as black) and full bleed (iOS rounds the corners).
    apple = background(size, 0)
    apple.alpha_composite(mark(size, 0.74))
    drawn.append((name, apple.convert("RGB")))
    name, size = FAVICON
    # Fetched with every first load: 32 colours draw a 32-pixel mark as well, in a
    # quarter of the bytes.
    drawn.append((name, icon(size, "any").quantize(32, method=Image.Quantize.FASTOCTREE)))
    for name, img in drawn:
        img.save(OUT / name, optimize=True)
        print(OUT / name, img.size)


if __name__ == "__main__":
    main()
