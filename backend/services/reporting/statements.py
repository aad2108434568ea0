"""The monthly statement: one PDF per calendar month of the merchant's time zone, with the
month's totals per currency (fpdf2: pure Python, maintained, Unicode TrueType fonts).

The figures are the dashboard's (dashboard.kpis over the month), so the two never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from babel.dates import format_date, format_datetime
from fpdf import FPDF
from sqlmodel import Session, col, select

from backend.core.currency import format_money
from backend.core.errors import NotFound, ValidationFailed
from backend.models import Dispute, Merchant, Payment, Refund, utcnow
from backend.services.reporting import dashboard, periods

# A Unicode font makes every currency sign and locale's spacing printable; the first one found
# is used (Debian's fonts-dejavu-core or fonts-liberation, both pulled in by chromium), and the
# PDF core font Helvetica, with text reduced to Latin-1, where neither is installed.
FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
    Path("/Library/Fonts/Arial Unicode.ttf"),
)


@dataclass(frozen=True)
class CurrencyTotals:
    currency: str
    kpis: dashboard.Kpis


@dataclass(frozen=True)
class Statement:
    merchant: Merchant
    month: date  # the first day
    period: periods.Period
    totals: list[CurrencyTotals]


def parse_month(text: str) -> date:
    try:
        year, month = (int(part) for part in text.split("-"))
        first = date(year, month, 1)
    except ValueError:
        raise ValidationFailed("Give the month as YYYY-MM", param="month") from None
    if not 2000 <= first.year <= 2100:
        raise ValidationFailed("Give the month as YYYY-MM", param="month")
    return first


def _next_month(first: date) -> date:
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def build(db: Session, merchant_id: str, livemode: bool, month: date) -> Statement:
    merchant = db.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound("No such merchant")
    days = (_next_month(month) - month).days
    period = periods.period_for(
        "custom",
        merchant.timezone,
        custom_from=month,
        custom_to=month.replace(day=days),
    )
    currencies: set[str] = set()
    for model in (Payment, Refund, Dispute):
        currencies.update(
            db.exec(
                select(model.currency)
                .where(
                    model.merchant_id == merchant_id,
                    model.livemode == livemode,
                    col(model.created_at) >= period.start,
                    col(model.created_at) < period.end,
                )
                .distinct()
            ).all()
        )
    totals = [
        CurrencyTotals(
            currency,
            dashboard.kpis(
                db, merchant_id=merchant_id, livemode=livemode, currency=currency, period=period
            ),
        )
        for currency in sorted(currencies)
    ]
    return Statement(merchant, month, period, totals)


def _font(pdf: FPDF) -> bool:
    for path in FONT_CANDIDATES:
        if path.is_file():
            pdf.add_font("body", fname=str(path))
            return True
    return False


def render_pdf(statement: Statement, *, now: datetime | None = None) -> bytes:
    merchant = statement.merchant
    locale = merchant.locale
    pdf = FPDF(format="A4")
    pdf.set_title(f"Statement {statement.month:%Y-%m}")
    pdf.set_author("PayPortal")
    pdf.add_page()
    unicode_font = _font(pdf)
    family = "body" if unicode_font else "helvetica"

    def text(value: str) -> str:
        # Narrow and ordinary no-break spaces print as spaces in every font.
        value = value.replace("\u202f", " ").replace("\u00a0", " ")
        if not unicode_font:
            value = value.replace("€", "EUR ").encode("latin-1", "replace").decode("latin-1")
        return value

    def money(amount: int, currency: str) -> str:
        return text(format_money(amount, currency, locale))

    month_name = format_date(statement.month, "LLLL y", locale=locale)
    zone = periods.zone(merchant.timezone)
    generated = format_datetime(
        (now or utcnow()).astimezone(zone), "medium", tzinfo=zone, locale=locale
    )

    pdf.set_font(family, size=18)
    pdf.cell(0, 10, text(merchant.name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=12)
    pdf.cell(0, 7, text(f"Statement for {month_name}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=9)
    pdf.set_text_color(90, 90, 90)
    first = format_date(statement.month, "long", locale=locale)
    last = format_date(statement.period.day_list()[-1], "long", locale=locale)
    pdf.cell(
        0,
        5,
        text(f"{first} - {last} ({merchant.timezone}) · generated {generated}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.cell(0, 5, text(f"Account {merchant.id} · {merchant.support_email}"), new_x="LMARGIN")
    pdf.ln(10)
    pdf.set_text_color(0, 0, 0)

    if not statement.totals:
        pdf.set_font(family, size=11)
        pdf.multi_cell(0, 6, text("No payments, refunds or disputes in this month."))
        return bytes(pdf.output())

    for totals in statement.totals:
        k, currency = totals.kpis, totals.currency
        pdf.set_font(family, size=13)
        pdf.cell(0, 8, currency, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, size=10)
        rows = [
            ("Gross volume (captured)", money(k.gross, currency)),
            ("Fees (platform and processor)", money(-k.fees, currency)),
            (f"Refunds issued ({k.refunds})", money(-k.refunded, currency)),
            ("Net to you, after fees and refunds", money(k.net, currency)),
            ("Successful payments", f"{k.successful:,}"),
            ("Failed payments", f"{k.failed:,}"),
            (f"Disputes opened ({k.disputes})", money(k.disputed, currency)),
        ]
        with pdf.table(
            col_widths=(110, 70),
            text_align=("LEFT", "RIGHT"),
            first_row_as_headings=False,
            line_height=7,
        ) as table:
            for label, value in rows:
                row = table.row()
                row.cell(text(label))
                row.cell(value)
        pdf.ln(6)
    pdf.set_font(family, size=8)
    pdf.set_text_color(90, 90, 90)
    pdf.multi_cell(
        0,
        4,
        text(
            "Gross volume, fees and net count the payments created in the month; refunds and "
            "disputes count those issued or opened in the month. Net already deducts the "
            "refunds of this month's payments, whenever they were issued."
        ),
    )
    return bytes(pdf.output())
