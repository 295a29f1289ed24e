from __future__ import annotations

import stat
from pathlib import Path

import pytest

from pipeline.control.catalogue import parse_params
from pipeline.errors import ActionFailed, ActionRefused
from pipeline.remediate.actions import ActionContext, perform
from tests.unit.control.conftest import settings


def _fake_systemctl(tmp_path: Path, exit_code: int = 0) -> tuple[Path, Path]:
    log = tmp_path / "argv.log"
    script = tmp_path / "systemctl"
    script.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexit {exit_code}\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script, log


def test_restart_unit_passes_an_argv_list(tmp_path: Path) -> None:
    script, log = _fake_systemctl(tmp_path)
    ctx = ActionContext(settings(systemctl=script))
    params = parse_params("restart_unit", {"unit": "nginx.service"})
    report = perform("restart_unit", params, ctx, dry_run=False)
    assert report.effect_ok is True
    assert log.read_text().splitlines() == [
        "restart -- nginx.service",
        "is-active --quiet -- nginx.service",
    ]


def test_restart_unit_failure_is_reported(tmp_path: Path) -> None:
    script, _ = _fake_systemctl(tmp_path, exit_code=5)
    params = parse_params("restart_unit", {"unit": "nginx.service"})
    with pytest.raises(ActionFailed, match="exited 5"):
        perform("restart_unit", params, ActionContext(settings(systemctl=script)), dry_run=False)


@pytest.mark.parametrize("unit", ["nginx.service; rm -rf /", "../x.service", "nginx"])
def test_unit_names_are_validated(unit: str) -> None:
    with pytest.raises(ValueError):
        parse_params("restart_unit", {"unit": unit})


def test_limit_cgroup_only_lowers(tmp_path: Path) -> None:
    group = tmp_path / "app.slice"
    group.mkdir()
    (group / "cpu.max").write_text("max 100000\n")
    (group / "memory.max").write_text("1073741824\n")
    ctx = ActionContext(settings(cgroup_root=tmp_path))
    cpu = parse_params("limit_cgroup", {"cgroup": "app.slice", "cpu_percent": 50})
    perform("limit_cgroup", cpu, ctx, dry_run=False)
    assert (group / "cpu.max").read_text() == "50000 100000\n"
    higher = parse_params("limit_cgroup", {"cgroup": "app.slice", "memory_bytes": 2 << 30})
    with pytest.raises(ActionRefused, match="only lowering"):
        perform("limit_cgroup", higher, ctx, dry_run=False)
    with pytest.raises(ValueError, match=r"\.\."):
        parse_params("limit_cgroup", {"cgroup": "../etc", "cpu_percent": 5})


def test_run_script_only_from_the_allowlist(tmp_path: Path) -> None:
    out = tmp_path / "ran"
    script = tmp_path / "fix.sh"
    script.write_text(f'#!/bin/sh\necho "$1" > {out}\n')
    script.chmod(0o755)
    ctx = ActionContext(settings(scripts={"fix": script}))
    perform(
        "run_script", parse_params("run_script", {"script": "fix", "arg": "a;b"[:1]}), ctx, False
    )
    assert out.read_text() == "a\n"
    with pytest.raises(ActionRefused, match="not in the scripts allowlist"):
        perform("run_script", parse_params("run_script", {"script": "other"}), ctx, False)
    with pytest.raises(ValueError):
        parse_params("run_script", {"script": "fix", "arg": "$(reboot)"})


def test_webhook_only_to_allowlisted_urls() -> None:
    params = parse_params("call_webhook", {"url": "http://127.0.0.1:9/hook"})
    with pytest.raises(ActionRefused, match="not in webhook_urls"):
        perform("call_webhook", params, ActionContext(settings()), dry_run=True)


def test_rollback_runs_the_roles_allowlisted_hook_with_the_change(tmp_path: Path) -> None:
    out = tmp_path / "rolled"
    hook = tmp_path / "rollback-web.sh"
    hook.write_text(f'#!/bin/sh\necho "$1" > {out}\n')
    hook.chmod(0o755)
    ctx = ActionContext(settings(scripts={"rollback-web": hook}))
    params = parse_params("rollback", {"hook": "rollback-web", "change": "deploy-7"})
    assert perform("rollback", params, ctx, True).effect_ok is None  # dry run: nothing ran
    assert not out.exists()
    perform("rollback", params, ctx, False)
    assert out.read_text() == "deploy-7\n"
    with pytest.raises(ActionRefused, match="not in the scripts allowlist"):
        perform("rollback", parse_params("rollback", {"hook": "rollback-db"}), ctx, False)


def test_notify_is_never_run_on_a_node() -> None:
    with pytest.raises(ActionRefused, match="not an action a node runs"):
        perform("notify", parse_params("notify", {}), ActionContext(settings()), False)
