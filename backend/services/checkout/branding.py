"""A merchant's checkout branding: the brand colour (kept readable) and the logo.

Colour: the Pay button is filled with the brand colour and its text is white or near-black,
whichever meets WCAG AA (4.5:1) on it; one of the two always does, so any colour is accepted
and the page stays readable. The settings page shows the ratio.

Logo: PNG, JPEG or WebP up to 1 MB, recognised by its first bytes (never by its name or the
browser's claimed type). SVG is refused: it can carry scripts. The image is decoded with Pillow
(a file that only starts like an image fails here), scaled to at most 480x160 and re-encoded,
which drops metadata (GPS, camera) and anything appended to the file. Logos are stored in the
database, so every worker serves them, under an id that changes with each upload, so they can
be cached forever.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError
from sqlmodel import Session

from backend.core.errors import NotFound, ValidationFailed
from backend.core.ids import new_id
from backend.models import BrandLogo, Merchant, utcnow
from backend.models.enums import ActorType
from backend.services import audit

MAX_LOGO_BYTES = 1_048_576
MAX_SOURCE_PIXELS = 4096 * 4096  # refuse decompression bombs before decoding
LOGO_BOX = (480, 160)
MIN_LOGO_SIDE = 16
AA_TEXT = 4.5
WHITE, INK = "#ffffff", "#111827"
_HEX = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")
# Magic bytes -> (Pillow format, MIME type, extension).
_FORMATS = {
    "png": ("PNG", "image/png", "png"),
    "jpeg": ("JPEG", "image/jpeg", "jpg"),
    "webp": ("WEBP", "image/webp", "webp"),
}


def sniff(data: bytes) -> str | None:
    """The image type from the file's first bytes: png, jpeg, webp, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


# ---------------------------------------------------------------------------------------------
# Colour


def normalise_color(value: object) -> str:
    """#rrggbb in lower case; ValidationFailed for anything else."""
    match = _HEX.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValidationFailed(
            "Enter the colour as a hex code such as #4f46e5", param="brand_color"
        )
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits.lower()


def _luminance(color: str) -> float:
    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    c = normalise_color(color)
    r, g, b = channel(c[1:3]), channel(c[3:5]), channel(c[5:7])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours, 1 to 21."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@dataclass(frozen=True)
class ButtonColors:
    background: str
    text: str
    ratio: float

    @property
    def passes_aa(self) -> bool:
        return self.ratio >= AA_TEXT


def button_colors(brand_color: str) -> ButtonColors:
    """The Pay button's colours: the brand colour with white text when that meets AA, else ink."""
    brand = normalise_color(brand_color)
    white = contrast_ratio(brand, WHITE)
    if white >= AA_TEXT:
        return ButtonColors(brand, WHITE, white)
    return ButtonColors(brand, INK, contrast_ratio(brand, INK))


def set_brand_color(
    db: Session, merchant_id: str, color: object, *, actor_id: str | None = None
) -> Merchant:
    merchant = _merchant(db, merchant_id)
    merchant.brand_color = normalise_color(color)
    merchant.updated_at = utcnow()
    db.add(merchant)
    _audit(db, merchant, "branding.color_changed", actor_id, {"brand_color": merchant.brand_color})
    return merchant


# ---------------------------------------------------------------------------------------------
# Logo


def upload_logo(
    db: Session, merchant_id: str, data: bytes, *, actor_id: str | None = None
) -> BrandLogo:
    if not data:
        raise ValidationFailed("The file is empty", param="logo")
    if len(data) > MAX_LOGO_BYTES:
        raise ValidationFailed("The logo must be at most 1 MB", param="logo", code="file_too_large")
    kind = sniff(data)
    if kind is None:
        raise ValidationFailed(
            "Upload a PNG, JPEG or WebP image (SVG and other files are not accepted)",
            param="logo",
            code="unsupported_file_type",
        )
    pil_format, mime, _ = _FORMATS[kind]
    try:
        with Image.open(io.BytesIO(data), formats=[pil_format]) as image:
            width, height = image.size
            if width * height > MAX_SOURCE_PIXELS:
                raise ValidationFailed("The image is too large (at most 4096 x 4096)", param="logo")
            if min(width, height) < MIN_LOGO_SIDE:
                raise ValidationFailed(
                    f"The image is too small (at least {MIN_LOGO_SIDE} pixels a side)",
                    param="logo",
                )
            image.load()
            cleaned = _reencode(image, pil_format)
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ValidationFailed(
            "The file could not be read as an image", param="logo", code="unreadable_image"
        ) from exc
    merchant = _merchant(db, merchant_id)
    logo = BrandLogo(
        id=new_id("logo"),
        merchant_id=merchant_id,
        content_type=mime,
        data=cleaned.data,
        width=cleaned.width,
        height=cleaned.height,
    )
    db.add(logo)
    merchant.logo_path = logo_url(logo)
    merchant.updated_at = utcnow()
    db.add(merchant)
    _audit(db, merchant, "branding.logo_uploaded", actor_id, {"logo": logo.id})
    return logo


@dataclass(frozen=True)
class _Encoded:
    data: bytes
    width: int
    height: int


def _reencode(image: Image.Image, pil_format: str) -> _Encoded:
    image.thumbnail(LOGO_BOX)  # keeps the aspect ratio; never enlarges
    if pil_format == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    elif image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        image = image.convert("RGBA")
    out = io.BytesIO()
    options = {"quality": 90} if pil_format in ("JPEG", "WEBP") else {"optimize": True}
    image.save(out, format=pil_format, **options)
    return _Encoded(out.getvalue(), image.width, image.height)


def remove_logo(db: Session, merchant_id: str, *, actor_id: str | None = None) -> Merchant:
    merchant = _merchant(db, merchant_id)
    merchant.logo_path = None
    merchant.updated_at = utcnow()
    db.add(merchant)
    _audit(db, merchant, "branding.logo_removed", actor_id, {})
    return merchant


def logo_url(logo: BrandLogo) -> str:
    return f"/api/checkout/logos/{logo.id}.{_FORMATS[_kind_of(logo.content_type)][2]}"


def _kind_of(mime: str) -> str:
    return next(kind for kind, (_, m, _) in _FORMATS.items() if m == mime)


def get_logo(db: Session, logo_id: str) -> BrandLogo | None:
    return db.get(BrandLogo, logo_id)


# ---------------------------------------------------------------------------------------------


def _merchant(db: Session, merchant_id: str) -> Merchant:
    merchant = db.get(Merchant, merchant_id, with_for_update=True)
    if merchant is None:
        raise NotFound("No such merchant")
    return merchant


def _audit(
    db: Session, merchant: Merchant, action: str, actor_id: str | None, details: dict
) -> None:
    audit.record(
        db,
        action=action,
        merchant_id=merchant.id,
        actor_type=ActorType.USER if actor_id else ActorType.SYSTEM,
        actor_id=actor_id,
        object_type="merchant",
        object_id=merchant.id,
        details=details,
    )
