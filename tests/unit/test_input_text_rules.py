"""The text rules of backend.api.input_hygiene: what a JSON body, a path and a query may hold."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from backend.api.input_hygiene import MAX_DEPTH, json_problem, path_problem, query_problem

BAD_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
BAD_VALUE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

# Mostly printable ASCII (the bodies the fast path passes unparsed), now and then a character
# of each kind the rules are about, or any other.
chars = st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.characters(codec="utf-8"),
    st.sampled_from(["\x00", "\t", "\n", "\r", "\x08", "\x0c", "\x1b", "\x7f", "\x85", "\x9f"]),
    st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff"]),
    st.sampled_from(["é", "€", "😀", '"', "\\", "[", "{"]),
)
texts = st.text(chars, max_size=8)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=12,
)


def clean(value: Any, depth: int = 0) -> bool:
    """The rule, written independently: clean keys, clean values, at most MAX_DEPTH levels."""
    if isinstance(value, str):
        return BAD_VALUE.search(value) is None
    if isinstance(value, list | dict):
        if depth >= MAX_DEPTH:
            return False
        if isinstance(value, dict):
            return all(BAD_NAME.search(k) is None and clean(v, depth + 1) for k, v in value.items())
        return all(clean(v, depth + 1) for v in value)
    return True


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_a_body_is_refused_exactly_when_its_text_breaks_the_rule(value: Any) -> None:
    escaped = json.dumps(value)  # \u escapes for everything outside ASCII
    raw = json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    expected = clean(value)
    assert (json_problem(escaped.encode()) is None) == expected
    assert (json_problem(escaped) is None) == expected
    # Raw UTF-8: a lone surrogate can only be there encoded, which is not UTF-8 at all.
    assert (json_problem(raw) is None) == expected


@settings(max_examples=400, deadline=None)
@given(texts, texts)
@example("k", "\x08")  # JSON's short escapes (\b \f \n \r \t) are control characters too
@example("a\rb", "v")
def test_one_field_is_refused_exactly_when_its_name_or_value_breaks_the_rule(
    name: str, value: str
) -> None:
    expected = BAD_NAME.search(name) is None and BAD_VALUE.search(value) is None
    assert (json_problem(json.dumps({name: value}).encode()) is None) == expected


@pytest.mark.parametrize("depth", [1, MAX_DEPTH - 1, MAX_DEPTH])
def test_nesting_up_to_the_limit_passes(depth: int) -> None:
    assert json_problem(b"[" * depth + b"]" * depth) is None
    assert json_problem(('{"a":' * depth + "1" + "}" * depth).encode()) is None


@pytest.mark.parametrize(
    ("depth", "param"),
    [(MAX_DEPTH, "metadata"), (900, "metadata"), (5_000, None), (400_000, None)],
)
def test_nesting_past_the_limit_is_refused(depth: int, param: str | None) -> None:
    """Named by its top-level field; past the parser's own limit, by nothing."""
    problem = json_problem(b'{"metadata":' + b"[" * depth + b"]" * depth + b"}")
    assert problem is not None
    assert (problem.code, problem.param) == ("invalid_request", param)
    assert f"more than {MAX_DEPTH} levels" in problem.message


@pytest.mark.parametrize(
    ("body", "param", "says"),
    [
        (b'{"metadata": {"note": "a\\u0000b"}}', "metadata.note", "NUL character (U+0000)"),
        (b'{"items": [{"name": "\\ud800"}]}', "items.0.name", "lone UTF-16 surrogate (U+D800)"),
        (b'{"description": "\\u001b[2J"}', "description", "control character U+001B"),
        ('{"reference": "\x85"}'.encode(), "reference", "control character U+0085"),
        (b'{"metadata": {"a\\tb": "x"}}', "metadata.a\\u0009b", "control character U+0009"),
        (b'"\\u007f"', "body", "control character U+007F"),
        (b'{"description": "\\b"}', "description", "control character U+0008"),
        (b'{"description": "\\f"}', "description", "control character U+000C"),
        (b'{"a\\nb": "x"}', "a\\u000ab", "control character U+000A"),
    ],
)
def test_the_refusal_names_the_field_and_the_character(body: bytes, param: str, says: str) -> None:
    problem = json_problem(body)
    assert problem is not None
    assert (problem.code, problem.param) == ("invalid_request", param)
    assert says in problem.message
    assert BAD_NAME.search(problem.message) is None  # the message itself is clean text


def test_free_text_keeps_tabs_and_line_breaks_and_any_real_character() -> None:
    body = json.dumps({"description": "Line 1\r\nLine 2\tTabbed — café 😀 ü"})
    assert json_problem(body.encode()) is None
    assert json_problem(json.dumps({"d": "😀"}, ensure_ascii=False).encode()) is None


@pytest.mark.parametrize(
    "body", [b"\xff", b'{"a": "\xed\xa0\x80"}', b'{"a": "\xc0\x80"}', b'{"a": "\xe2\x82"}']
)
def test_a_body_that_is_not_utf8_is_refused(body: bytes) -> None:
    problem = json_problem(body)
    assert problem is not None and problem.code == "invalid_json"


def test_raw_control_bytes_and_unparsable_suspect_bodies_are_refused() -> None:
    problem = json_problem(b'{"a": "x\x00y"}')
    assert problem is not None and problem.code == "invalid_json"
    assert json_problem(b"{not json") is None  # clean text: the route answers for its JSON


ROUTES = ["/api/payments/{paymentId}/capture", "/api/portal/statements/{month}.pdf"]


@pytest.mark.parametrize(
    ("path", "param"),
    [
        (b"/api/payments/%00/capture", "paymentId"),
        (b"/api/payments/pay_1%ED%A0%80/capture", "paymentId"),
        (b"/api/payments/%FF/capture", "paymentId"),
        (b"/api/portal/statements/2024-01%0A.pdf", "month"),
        (b"/api/nowhere/%1B", "path"),
    ],
)
def test_a_path_segment_must_be_clean_text(path: bytes, param: str) -> None:
    problem = path_problem(path, lambda: ROUTES)
    assert problem is not None
    assert (problem.code, problem.param) == ("invalid_request", param)


def test_clean_paths_pass_without_a_look_at_the_routes() -> None:
    def routes() -> list[str]:
        raise AssertionError("not needed")

    assert path_problem(b"/api/payments/pay_01abc/capture", routes) is None
    assert path_problem(b"/api/customers/caf%C3%A9%20bar", routes) is None


@pytest.mark.parametrize(
    ("query", "param"),
    [
        (b"cursor=%00", "cursor"),
        (b"limit=10&cursor=a%0Ab", "cursor"),
        (b"q=%ED%A0%80", "q"),
        (b"q=%C2%85", "q"),
        (b"%01=1", "\\u0001"),
        (b"a=1&b=%FF", "b"),
    ],
)
def test_a_query_parameter_must_be_clean_text(query: bytes, param: str) -> None:
    problem = query_problem(query)
    assert problem is not None
    assert (problem.code, problem.param) == ("invalid_request", param)


def test_clean_queries_pass() -> None:
    for query in [b"", b"limit=10&cursor=whd_1", b"q=ann%40example.com+x", b"from=2024-01-01&to="]:
        assert query_problem(query) is None
