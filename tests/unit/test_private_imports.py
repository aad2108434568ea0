"""scripts/check_private_imports.py: a `_private` name used across modules is caught, and a
clean package passes."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_private_imports.py"


@pytest.fixture(scope="module")
def checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_private_imports", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


LIBRARY = {
    "backend/__init__.py": "",
    "backend/core/__init__.py": "",
    "backend/core/money.py": (
        "__all__ = ['total']\ndef _round(x):\n    return x\ndef total(x):\n    return _round(x)\n"
    ),
    "backend/core/_impl.py": "def helper():\n    return 1\n",
}


def test_a_clean_package_passes(checker: ModuleType, tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            **LIBRARY,
            # Public names, dunders, its own privates, a private submodule from inside its
            # package, private attributes of objects: all fine.
            "backend/core/uses.py": (
                "from backend.core import _impl\n"
                "from backend.core.money import __all__, total\n"
                "import backend.core.money as money\n"
                "class A:\n"
                "    def __init__(self):\n        self._x = money.total(1)\n"
                "def _mine():\n    return _impl.helper() + total(2) + len(money.__all__)\n"
            ),
            "portal/__init__.py": "import json\nprint(json._default_decoder)\n",
            "bench/_harness.py": "def database():\n    return 1\n",
            "bench/run.py": "from _harness import database\nprint(database())\n",
        },
    )
    assert checker.check(tmp_path) == []
    assert checker.main(["check", str(tmp_path)], allowed=frozenset()) == 0


def test_private_names_across_modules_are_caught(
    checker: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        tmp_path,
        {
            **LIBRARY,
            "backend/services/__init__.py": "",
            "backend/services/pay.py": (
                "from backend.core.money import _round\n"
                "from backend.core import money\n"
                "import backend.core.money\n"
                "def pay(x):\n"
                "    return money._round(x) + backend.core.money._round(x) + _round(x)\n"
            ),
            "backend/services/rel.py": "from ..core.money import _round as r\n",
            "portal/__init__.py": "",
            "portal/state.py": "from backend.core._impl import helper\n",
            "bench/profile.py": "def _merchant():\n    return 1\n",
            "bench/job.py": "from profile import _merchant\n",
        },
    )
    found = [str(v) for v in checker.check(tmp_path)]
    assert found == [
        "backend/services/pay.py:1: imports private name backend.core.money._round",
        "backend/services/pay.py:5: uses private name backend.core.money._round",
        "backend/services/rel.py:1: imports private name backend.core.money._round",
        "bench/job.py:1: imports private name profile._merchant",
        "portal/state.py:1: imports private module backend.core._impl",
    ]
    assert checker.main(["check", str(tmp_path)], allowed=frozenset()) == 1
    out = capsys.readouterr().out
    assert "backend/services/pay.py:5: uses private name backend.core.money._round" in out

    # The allow-list passes exactly what it names, and an entry nothing matches fails.
    allowed = frozenset((v.path, v.what) for v in checker.check(tmp_path))
    assert checker.main(["check", str(tmp_path)], allowed=allowed) == 0
    stale = allowed | {("portal/gone.py", "imports private name x._y")}
    assert checker.main(["check", str(tmp_path)], allowed=stale) == 1
    assert "portal/gone.py: allow-list entry no longer needed" in capsys.readouterr().out
