"""The tuning actions on this node: write a knob under ``tune_root``, keep its old value to undo.

Each returns an ``ActionReport`` whose ``undo`` writes back exactly what was there before (or
removes the drop-in it created); the executor calls it when verification fails.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from pipeline.control import catalogue as cat
from pipeline.errors import ActionFailed, ActionRefused
from pipeline.remediate.actions import ActionContext, ActionReport, run_argv

DROP_IN = "50-fleetwatch-tune-{}.conf"


def set_sysctl(params: cat.ActionParams, ctx: ActionContext, dry_run: bool) -> ActionReport:
    """``/proc/sys/<key>`` ← value (under ``tune_root``)."""
    assert isinstance(params, cat.SetSysctl)  # noqa: S101 - the dispatcher pairs them
    path = ctx.settings.tune_root / "proc" / "sys" / params.key.replace(".", "/")
    return _replace(path, f"{params.value}\n", dry_run, create=False)


def set_cgroup_limit(params: cat.ActionParams, ctx: ActionContext, dry_run: bool) -> ActionReport:
    """A unit's cgroup v2 file ← value; the unit's cgroup must exist (it is not created)."""
    assert isinstance(params, cat.SetCgroupLimit)  # noqa: S101
    group = ctx.settings.tune_root / "sys" / "fs" / "cgroup" / "system.slice" / params.unit
    return _replace(group / params.file, params.value + "\n", dry_run, create=False)


def set_unit_property(params: cat.ActionParams, ctx: ActionContext, dry_run: bool) -> ActionReport:
    """A drop-in ``[Service] Property=value`` for the unit, then ``systemctl daemon-reload``."""
    assert isinstance(params, cat.SetUnitProperty)  # noqa: S101
    folder = ctx.settings.tune_root / "etc" / "systemd" / "system" / f"{params.unit}.d"
    path = folder / DROP_IN.format(params.property)
    text = f"# written by fleetwatch tune apply\n[Service]\n{params.property}={params.value}\n"
    reload = [str(ctx.settings.systemctl), "daemon-reload"]
    if not dry_run:
        folder.mkdir(parents=True, exist_ok=True)
    report = _replace(path, text, dry_run, create=True)
    if dry_run or report.undo is None:
        return report
    run_argv(reload, ctx.settings.action_timeout_s)
    undo = report.undo

    def undo_and_reload() -> str:
        done = undo()
        run_argv(reload, ctx.settings.action_timeout_s)
        return done

    return ActionReport(report.detail + "; daemon reloaded", True, undo_and_reload)


def _replace(path: Path, text: str, dry_run: bool, create: bool) -> ActionReport:
    """Write ``text`` to ``path`` (no symlinks), returning how to put back what was there."""
    if path.is_symlink():
        raise ActionRefused(f"{path} is a symlink; refused")
    previous = _read(path, create)
    shown = " ".join(text.split("\n")[-2:]).strip()
    if dry_run:
        return ActionReport(f"would write {shown!r} to {path} (now {_short(previous)})", None)
    path.write_text(text)
    readback = path.read_text()
    # Kernel files normalise what they echo (cpu.max "max 100000"); compare words, not bytes.
    effect_ok = readback.split()[-1:] == text.split()[-1:]
    detail = f"wrote {shown!r} to {path} (was {_short(previous)})"
    return ActionReport(detail, effect_ok, _restorer(path, previous))


def _read(path: Path, create: bool) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        if create:
            return None
        raise ActionFailed(f"{path} does not exist on this node") from None


def _restorer(path: Path, previous: str | None) -> Callable[[], str]:
    def restore() -> str:
        if previous is None:
            os.unlink(path)
            return f"removed {path}"
        path.write_text(previous)
        return f"restored {path} to {_short(previous)}"

    return restore


def _short(text: str | None) -> str:
    return "absent" if text is None else repr(" ".join(text.split())[:60])
