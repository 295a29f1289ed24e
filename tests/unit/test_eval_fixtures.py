"""The committed evaluation fixtures are exactly what their seeded generator writes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "eval"


def _generate(root: Path) -> None:
    spec = importlib.util.spec_from_file_location("generate", FIXTURES / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate(root)


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix != ".py" and p.name != "README.md"
    }


def test_committed_fixtures_equal_a_fresh_generation(tmp_path: Path) -> None:
    _generate(tmp_path)
    fresh, committed = _files(tmp_path), _files(FIXTURES)
    assert sorted(fresh) == sorted(committed)
    changed = [name for name in fresh if fresh[name] != committed[name]]
    assert not changed, f"regenerate with python {FIXTURES / 'generate.py'}: {changed}"
