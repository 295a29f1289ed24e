"""Carry out one catalogue action on this node: argv lists only, timeouts, dry-run first.

Every action returns an ``ActionReport``: whether it ran, a one-line detail, and its own check of
the direct effect (the unit is active, the processes are gone, ...). Whether the *metric* recovers
is judged afterwards by ``verify.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import RemediationSettings
from pipeline.control import catalogue as cat
from pipeline.errors import ActionFailed, ActionRefused
from pipeline.remediate.files import clean_old_files, resolve_inside
from pipeline.remediate.processes import candidates, stop_many, top_consumer


@dataclass(frozen=True)
class ActionReport:
    """What an action did; ``effect_ok`` is None in dry-run (nothing to check).

    ``undo`` puts back the previous value (tuning actions only) and says what it did.
    """

    detail: str
    effect_ok: bool | None
    undo: Callable[[], str] | None = None


@dataclass(frozen=True)
class ActionContext:
    """Where actions may act: settings plus the roots tests point elsewhere."""

    settings: RemediationSettings
    proc_root: Path = Path("/proc")
    payload: dict[str, object] | None = None  # sent by call_webhook


def perform(
    action: str, params: cat.ActionParams, ctx: ActionContext, dry_run: bool
) -> ActionReport:
    """Run ``action`` (or describe what it would do when ``dry_run``).

    Raises
    ------
    ActionRefused
        When the target is outside what the node's settings allow.
    """
    handler = _HANDLERS.get(action) or _tuning_handler(action)
    if handler is None:  # notify: the issuer never sends it, so a request for it is forged
        raise ActionRefused(f"{action!r} is not an action a node runs")
    return handler(params, ctx, dry_run)


def _restart_unit(params: cat.ActionParams, ctx: ActionContext, dry_run: bool) -> ActionReport:
    assert isinstance(params, cat.RestartUnit)  # noqa: S101 - the dispatcher pairs them
    systemctl = str(ctx.settings.systemctl)
    argv = [systemctl, "restart", "--", params.unit]
    if dry_run:
        return ActionReport(f"would run {argv}", None)
    run_argv(argv, ctx.settings.action_timeout_s)
    active = subprocess.run(  # noqa: S603 - argv list from validated parameters
        [systemctl, "is-active", "--quiet", "--", params.unit],
        timeout=ctx.settings.action_timeout_s,
        check=False,
    )
    return ActionReport(f"restarted {params.unit}", active.returncode == 0)


def _stop_process(params: cat.ActionParams, ctx: ActionContext, dry_run: bool) -> ActionReport:
    assert isinstance(params, cat.StopProcess)  # noqa: S101
    found = candidates(ctx.proc_root, ctx.settings.process_allowlist, params.pattern)
    if params.top is not None:
        top = top_consumer(ctx.proc_root, found, params.top)
        found = [top] if top is not None else []
    if not found:
        return ActionReport("no allowlisted process matches", None if dry_run else False)
    described = ", ".join(f"{p.pid} ({p.command[:60]})" for p in found[:5])
    if dry_run:
        return ActionReport(f"would stop {len(found)}: {described}", None)
    alive = stop_many(ctx.proc_root, found, params.grace_s)
    detail = f"stopped {len(found) - len(alive)} of {len(found)}: {described}"
    return ActionReport(detail, not alive)


def _drop_caches(params: cat.ActionParams, ctx: ActionContext, dry_run: bool) -> ActionReport:
    assert isinstance(params, cat.DropCaches)  # noqa: S101
    target = ctx.settings.drop_caches_path
    if dry_run:
        return ActionReport(f"would write {params.level} to {target}", None)
    os.sync()  # dirty pages cannot be dropped; write them out first
    target.write_text(f"{params.level}\n")
    return ActionReport(f"wrote {params.level} to {target}", True)


def _clean_files(params: cat.ActionParams, ctx: ActionContext, dry_run: bool) -> ActionReport:
    assert isinstance(params, cat.CleanFiles)  # noqa: S101
    report = clean_old_files(
        Path(params.path),
        ctx.settings.clean_roots,
        older_than_s=params.older_than_days * 86_400,
        now_s=time.time(),
        glob=params.glob,
        dry_run=dry_run,
    )
    verb = "would delete" if dry_run else "deleted"
    detail = (
        f"{verb} {report.deleted} files ({report.freed_bytes} bytes) under {params.path}, "
        f"kept {report.kept}, skipped {report.skipped_links} symlinks"
    )
    return ActionReport(detail, None if dry_run else True)


def _limit_cgroup(params: cat.ActionParams, ctx: ActionContext, dry_run: bool) -> ActionReport:
    assert isinstance(params, cat.LimitCgroup)  # noqa: S101
    group = resolve_inside(ctx.settings.cgroup_root / params.cgroup, [ctx.settings.cgroup_root])
    if params.cpu_percent is not None:
        period = 100_000
        name, value = "cpu.max", f"{int(period * params.cpu_percent / 100)} {period}"
        current = _cpu_quota(group / name)
        new = int(period * params.cpu_percent / 100)
    else:
        name, value = "memory.max", str(params.memory_bytes)
        raw = (group / name).read_text().strip()
        current = None if raw == "max" else int(raw)
        new = int(params.memory_bytes or 0)
    if current is not None and new >= current:
        raise ActionRefused(f"{name} would rise from {current} to {new}; only lowering is allowed")
    if dry_run:
        return ActionReport(f"would write {value!r} to {group / name}", None)
    (group / name).write_text(value + "\n")
    return ActionReport(f"wrote {value!r} to {group / name}", True)


def _cpu_quota(path: Path) -> int | None:
    quota, _, _period = path.read_text().strip().partition(" ")
    return None if quota == "max" else int(quota)


def _call_webhook(params: cat.ActionParams, ctx: ActionContext, dry_run: bool) -> ActionReport:
    assert isinstance(params, cat.CallWebhook)  # noqa: S101
    if params.url not in ctx.settings.webhook_urls:
        raise ActionRefused(f"webhook {params.url} is not in webhook_urls")
    if dry_run:
        return ActionReport(f"would POST to {params.url}", None)
    body = json.dumps(ctx.payload or {}).encode()
    request = urllib.request.Request(  # noqa: S310 - allowlisted http(s) URL
        params.url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=ctx.settings.action_timeout_s) as response:  # noqa: S310
        status = response.status
    return ActionReport(f"POST {params.url} → {status}", 200 <= status < 300)


def _run_script(params: cat.ActionParams, ctx: ActionContext, dry_run: bool) -> ActionReport:
    assert isinstance(params, cat.RunScript)  # noqa: S101
    path = ctx.settings.scripts.get(params.script)
    if path is None or not path.is_absolute():
        raise ActionRefused(f"script {params.script!r} is not in the scripts allowlist")
    argv = [str(path)] + ([params.arg] if params.arg else [])
    if dry_run:
        return ActionReport(f"would run {argv}", None)
    run_argv(argv, ctx.settings.action_timeout_s)
    return ActionReport(f"ran {argv}", True)


def _rollback(params: cat.ActionParams, ctx: ActionContext, dry_run: bool) -> ActionReport:
    # The role's hook is an allowlisted script like any other; the change id is its argument.
    assert isinstance(params, cat.Rollback)  # noqa: S101
    return _run_script(cat.RunScript(script=params.hook, arg=params.change), ctx, dry_run)


def run_argv(argv: list[str], timeout_s: float) -> None:
    """Run ``argv`` (never a shell) or raise ActionFailed with its exit code and stderr."""
    try:
        subprocess.run(argv, timeout=timeout_s, check=True, capture_output=True)  # noqa: S603
    except subprocess.TimeoutExpired:
        raise ActionFailed(f"{argv[0]} timed out after {timeout_s} s") from None
    except subprocess.CalledProcessError as exc:
        stderr = exc.stderr.decode(errors="replace").strip()[:200]
        raise ActionFailed(f"{argv} exited {exc.returncode}: {stderr}") from None
    except OSError as exc:
        raise ActionFailed(f"cannot run {argv[0]}: {exc}") from None


Handler = Callable[[cat.ActionParams, ActionContext, bool], ActionReport]
_HANDLERS: dict[str, Handler] = {
    "restart_unit": _restart_unit,
    "stop_process": _stop_process,
    "drop_caches": _drop_caches,
    "clean_files": _clean_files,
    "limit_cgroup": _limit_cgroup,
    "call_webhook": _call_webhook,
    "run_script": _run_script,
    "rollback": _rollback,
}


def _tuning_handler(action: str) -> Handler | None:
    # Imported here: pipeline.remediate.tuning builds on this module's report and runner.
    from pipeline.remediate import tuning

    handlers: dict[str, Handler] = {
        "set_sysctl": tuning.set_sysctl,
        "set_cgroup_limit": tuning.set_cgroup_limit,
        "set_unit_property": tuning.set_unit_property,
    }
    return handlers.get(action)
