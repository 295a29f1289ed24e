"""tune apply's set_sysctl on a REAL kernel sysctl: net.core.somaxconn inside a network namespace
this test creates (``unshare -n``, needs root), so the host's value is never touched.

Real: the kernel file /proc/sys/net/core/somaxconn of the new namespace, the signed request, the
approval, the executor's write, its verification and its rollback. Only the probe's metric (a
regression) is given by the test. Needs no Kafka or InfluxDB.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

CHILD = """
import json, sys
from pathlib import Path
from pipeline.control.audit import AuditLog
from pipeline.control.operators import make_command
from pipeline.models import utc_now
from pipeline.remediate.actions import ActionContext
from pipeline.remediate.executor import NodeRemediator
from pipeline.tune.apply import Change, request_for
from tests.unit.control.conftest import KEY, KEYRING, OPERATOR, ListSink, control, settings

live = Path("/proc/sys/net/core/somaxconn")
before = live.read_text().strip()
seen = []
def probe(metric):
    seen.append(live.read_text().strip())  # what the kernel holds while verifying
    return 10.0 if len(seen) == 1 else 50.0  # baseline, then a regression
own = settings(apply=True, allowed_actions=["set_sysctl"], tune_root=Path("/"),
               verify_timeout_s=1e-6, state_dir=Path(sys.argv[1]))
audit = AuditLog(ListSink())
node = NodeRemediator("ns-1", {}, own, control(), KEYRING, audit, ActionContext(own), probe)
node.start()
change = Change("set_sysctl", {"key": "net.core.somaxconn", "value": 2048}, "net.drop_in", 5)
request = request_for(change, "inc-1", "ns-1", KEY, utc_now(), 300)
node.handle_request(request, utc_now())
approval = make_command(OPERATOR, "approve", utc_now(), request_id=request.request_id)
(result,) = node.handle_command(approval, utc_now())
print(json.dumps({"before": before, "during": seen[-1], "after": live.read_text().strip(),
                  "outcome": result.outcome, "detail": result.detail}))
"""


def test_set_sysctl_in_a_network_namespace_is_written_then_rolled_back(tmp_path: Path) -> None:
    unshare = shutil.which("unshare")
    assert unshare, "util-linux unshare is needed for this test"
    host_before = Path("/proc/sys/net/core/somaxconn").read_text()
    done = subprocess.run(  # noqa: S603 - fixed argv
        [unshare, "-n", sys.executable, "-c", CHILD, str(tmp_path)],
        capture_output=True, text=True, timeout=50, check=False, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["during"] == "2048", seen  # the kernel really held the new value
    assert seen["after"] == seen["before"] != "2048", seen  # and the rollback restored it
    assert seen["outcome"] == "no_effect" and "rolled back" in seen["detail"]
    assert Path("/proc/sys/net/core/somaxconn").read_text() == host_before
