"""An invoice as a PDF (fpdf2), for the customer (the hosted invoice page's download) and the
merchant (GET /api/invoices/{id}/pdf): the merchant's name, logo and brand colour, the invoice's
number, status in words and dates, who it is billed to, every line (a proration credit as a
negative amount), the total, what was paid and what is still due.

Amounts are the invoice's integers in its currency's minor unit, formatted in the merchant's
locale; dates are in the merchant's time zone. The fonts and text rules are the statements'
(backend.services.reporting.pdf_text).
"""

from __future__ import annotations

import io
from datetime import datetime

from babel.dates import format_date
from fpdf import FPDF, FontFace
from sqlmodel import Session

from backend.core.currency import format_money
from backend.core.errors import NotFound
from backend.models import BrandLogo, Invoice, InvoiceLine, Merchant
from backend.services.billing import changes, customer_words
from backend.services.reporting import periods
from backend.services.reporting.pdf_text import add_font

MINUS, DASH = "\u2212", " \u2013 "


def filename(invoice: Invoice) -> str:
    """invoice-<number>.pdf (a draft has no number yet: its id)."""
    name = invoice.number or invoice.id
    return f"invoice-{''.join(c for c in name if c.isalnum() or c in '-_')}.pdf"


def _logo(db: Session, merchant: Merchant) -> bytes | None:
    if not merchant.logo_path:
        return None
    logo_id = merchant.logo_path.rsplit("/", 1)[-1].split(".", 1)[0]
    logo = db.get(BrandLogo, logo_id)
    return logo.data if logo is not None and logo.merchant_id == merchant.id else None


def _rgb(color: str) -> tuple[int, int, int]:
    try:
        return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)
    except (ValueError, IndexError):
        return 79, 70, 229


def render(db: Session, invoice: Invoice, *, lines: list[InvoiceLine] | None = None) -> bytes:
    merchant = db.get(Merchant, invoice.merchant_id)
    if merchant is None:
        raise NotFound("No such merchant")
    lines = changes.lines_of(db, invoice) if lines is None else lines
    locale, zone = merchant.locale, periods.zone(merchant.timezone)

    def day(moment: datetime | None) -> str:
        return format_date(moment.astimezone(zone), "medium", locale=locale) if moment else ""

    pdf = FPDF(format="A4")
    title = f"Invoice {invoice.number}" if invoice.number else "Draft invoice"
    pdf.set_title(title)
    pdf.set_author(merchant.name)
    pdf.add_page()
    font = add_font(pdf)
    text = font.text
    strong = FontFace(emphasis="BOLD" if font.has_bold else None)

    def money(amount: int) -> str:
        return text(format_money(amount, invoice.currency, locale).replace("-", MINUS))

    brand = _rgb(merchant.brand_color)
    pdf.set_fill_color(*brand)
    pdf.rect(0, 0, pdf.w, 4, style="F")
    pdf.set_fill_color(255, 255, 255)  # the tables below are not brand-coloured
    logo = _logo(db, merchant)
    if logo is not None:
        try:
            pdf.image(io.BytesIO(logo), x=pdf.l_margin, y=10, h=14)
            pdf.set_y(27)
        except Exception:  # an image fpdf2 cannot place: the name alone says who it is
            pdf.set_y(10)
    pdf.set_font(font.family, size=18)
    pdf.cell(0, 10, text(merchant.name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font.family, size=9)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(0, 5, text(merchant.support_email), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)

    pdf.set_text_color(0, 0, 0)
    pdf.set_font(font.family, size=14)
    pdf.cell(0, 8, text(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font.family, size=10)
    facts = [
        ("Status", customer_words.invoice_status(invoice.status)),
        ("Date", day(invoice.finalized_at or invoice.created_at)),
        ("Period", f"{day(invoice.period_start)}{DASH}{day(invoice.period_end)}"),
    ]
    if invoice.paid_at:
        facts.append(("Paid on", day(invoice.paid_at)))
    billed = " · ".join(v for v in (invoice.customer_name, invoice.customer_email) if v)
    if billed:
        facts.append(("Billed to", billed))
    for label, value in facts:
        pdf.cell(30, 6, text(label))
        pdf.cell(0, 6, text(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    pdf.set_font(font.family, size=9)
    with pdf.table(
        col_widths=(110, 20, 30, 30),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
        line_height=6,
        headings_style=FontFace(emphasis=strong.emphasis, fill_color=(238, 238, 238)),
    ) as table:
        header = table.row()
        for heading in ("Description", "Qty", "Unit price", "Amount"):
            header.cell(heading)
        for line in lines:
            row = table.row()
            row.cell(text(line.description))  # it names its period
            row.cell(str(line.quantity) if line.quantity else "")
            row.cell(money(line.unit_amount) if line.unit_amount is not None else "")
            row.cell(money(line.amount))
        totals = [("Subtotal", invoice.subtotal), ("Total", invoice.total)]
        if invoice.total != invoice.amount_due:
            carried = invoice.amount_due - invoice.total
            totals.append(("Credit carried to your next invoice", carried))
        totals += [("Amount paid", invoice.amount_paid)]
        for label, amount in totals:
            row = table.row()
            row.cell(text(label), colspan=3)
            row.cell(money(amount))
        remaining = invoice.amount_due - invoice.amount_paid
        if invoice.status in customer_words.PAYABLE:
            row = table.row(style=strong)
            row.cell("Amount due", colspan=3)
            row.cell(money(max(remaining, 0)))
    pdf.ln(4)
    pdf.set_font(font.family, size=8)
    pdf.set_text_color(90, 90, 90)
    pdf.multi_cell(
        0,
        4,
        text(
            f"Amounts in {invoice.currency}. Questions about this invoice: "
            f"{merchant.support_email}."
        ),
    )
    return bytes(pdf.output())
