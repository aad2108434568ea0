"""Charts of the dashboard (Reflex's recharts components), sized to their container so they
fit a phone as well as a desk."""

from __future__ import annotations

import reflex as rx

ACCENT = "var(--accent-9)"
PALETTE = ["#4f46e5", "#0ea5e9", "#10b981", "#f59e0b", "#ef4444", "#8b5cf6", "#64748b"]


def chart_card(title: str, chart: rx.Component, empty: rx.Var, hint: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, size="3", as_="h2"),
            rx.cond(
                empty,
                rx.center(rx.text(hint, size="2", color_scheme="gray"), height="200px"),
                rx.box(chart, width="100%", height="240px"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        min_width="0",
    )


def volume_chart(data: rx.Var) -> rx.Component:
    return rx.recharts.area_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
        rx.recharts.area(
            data_key="volume",
            name="Volume",
            stroke=ACCENT,
            fill=ACCENT,
            fill_opacity=0.15,
            type_="monotone",
            is_animation_active=False,
        ),
        rx.recharts.x_axis(data_key="day", min_tick_gap=24, font_size=11),
        rx.recharts.y_axis(width=48, font_size=11),
        rx.recharts.graphing_tooltip(),
        data=data,
        width="100%",
        height=240,
        margin={"left": 0, "right": 8, "top": 8, "bottom": 0},
    )


def method_chart(data: rx.Var) -> rx.Component:
    return rx.recharts.bar_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", horizontal=False),
        rx.recharts.bar(
            data_key="volume", name="Volume", fill=ACCENT, radius=4, is_animation_active=False
        ),
        rx.recharts.x_axis(type_="number", font_size=11),
        rx.recharts.y_axis(data_key="name", type_="category", width=96, font_size=11),
        rx.recharts.graphing_tooltip(),
        data=data,
        layout="vertical",
        width="100%",
        height=240,
        margin={"left": 0, "right": 8, "top": 8, "bottom": 0},
    )


def currency_chart(data: rx.Var) -> rx.Component:
    return rx.recharts.pie_chart(
        rx.recharts.pie(
            rx.foreach(
                data,
                lambda _, i: rx.recharts.cell(fill=rx.Var.create(PALETTE)[i % len(PALETTE)]),
            ),
            data=data,
            data_key="payments",
            name_key="name",
            inner_radius="45%",
            outer_radius="75%",
            label=True,
            is_animation_active=False,
        ),
        rx.recharts.legend(),
        rx.recharts.graphing_tooltip(),
        width="100%",
        height=240,
    )
