"""scripts/check_module_names.py: a name read from a project module that does not define it is
caught (the mistake a moved function leaves behind); defined names, imports and submodules
pass."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_module_names.py"


@pytest.fixture(scope="module")
def checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_module_names", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


PACKAGE = {
    "backend/__init__.py": "",
    "backend/pay/__init__.py": "",
    "backend/pay/orders.py": "from datetime import UTC\nLIMIT = 5\ndef get(x):\n    return x\n",
    "backend/pay/operations.py": "def capture(x):\n    return x\n",
}


def test_a_name_that_moved_away_is_caught(checker: ModuleType, tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            **PACKAGE,
            "portal/__init__.py": "",
            "portal/page.py": (
                "from backend.pay import orders\n"
                "def load(x):\n    return orders.capture(x)\n"  # capture lives in operations
            ),
        },
    )
    assert checker.check(tmp_path) == ["portal/page.py:3: backend.pay.orders has no 'capture'"]
    assert checker.main(["check", str(tmp_path)]) == 1


def test_defined_imported_and_submodule_names_pass(checker: ModuleType, tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            **PACKAGE,
            "portal/__init__.py": "",
            "portal/page.py": (
                "import backend.pay as pay\n"
                "from backend.pay import operations, orders\n"
                "def load(x):\n"
                "    return orders.get(x), orders.LIMIT, orders.UTC, operations.capture(x),"
                " pay.orders, orders.__name__\n"
            ),
        },
    )
    assert checker.check(tmp_path) == []
    assert checker.main(["check", str(tmp_path)]) == 0


def test_the_project_passes(checker: ModuleType) -> None:
    assert checker.check(SCRIPT.parents[1]) == []
