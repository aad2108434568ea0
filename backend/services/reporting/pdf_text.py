"""What every PDF we print (monthly statements, invoices) needs from fpdf2: a Unicode font when
the machine has one, and text reduced to what the chosen font can print.

A Unicode font makes every currency sign and locale's spacing printable; the first one found
is used (Debian's fonts-dejavu-core or fonts-liberation, both pulled in by chromium), and the
PDF core font Helvetica, with text reduced to Latin-1, where neither is installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF

FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
    Path("/Library/Fonts/Arial Unicode.ttf"),
)


@dataclass(frozen=True)
class PdfFont:
    """The font a document was given: its family name, whether it is Unicode, whether it has
    a bold face (the core font has one)."""

    family: str
    unicode: bool
    has_bold: bool

    def text(self, value: str) -> str:
        """`value` as this font prints it: narrow and ordinary no-break spaces as spaces (every
        font has those); without a Unicode font, Latin-1 only (€ spelt EUR)."""
        value = value.replace("\u202f", " ").replace("\u00a0", " ")
        if not self.unicode:
            value = value.replace("€", "EUR ").replace("\u2212", "-")
            value = value.encode("latin-1", "replace").decode("latin-1")
        return value


def add_font(pdf: FPDF) -> PdfFont:
    """Register the first Unicode font found (and its bold face) on `pdf` as "body"."""
    for path in FONT_CANDIDATES:
        if path.is_file():
            pdf.add_font("body", fname=str(path))
            bold = path.with_name(path.stem.removesuffix("-Regular") + "-Bold.ttf")
            if bold.is_file():
                pdf.add_font("body", style="B", fname=str(bold))
            return PdfFont("body", True, bold.is_file())
    return PdfFont("helvetica", False, True)
