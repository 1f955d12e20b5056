"""A policy from another package plugs in through the asylum_sim.policies entry-point group.

The test writes a tiny third-party distribution (a module and its .dist-info with an
entry_points.txt) into a temporary directory, puts it on the path of a fresh interpreter, and
checks that the registry finds the policy, that a scenario switching it on validates and runs,
and that its counts and costs reach the results, with no change to this package.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PLUGIN = '''
"""A third-party policy: a flat fee paid on every claim made from the start date."""

import numpy as np
from pydantic import Field

from simulation.core import timeline
from simulation.policies.contract import Policy, PolicyConfig, PolicyOutput


class ClaimFeeConfig(PolicyConfig):
    """A fee per claim (a toy policy for the plug-in test)."""

    fee_gbp: float = Field(ge=0, description="GBP per claim made from the start date")


class ClaimFee(Policy):
    name = "claim_fee"

    def finish(self, records, horizon):
        claims = records["t_claim"]
        charged = claims[np.isfinite(claims) & (claims >= self.start_time)]
        return PolicyOutput(
            summary={"claims_charged": int((charged <= horizon).sum())},
            costs={"claim_fees": timeline.per_day(charged, self.days) * self.config.fee_gbp},
        )


ClaimFeeConfig.runtime = ClaimFee
'''

CHECK = """
import json
from simulation import Scenario, run
from simulation.inputs.policy_config import registered

scenario = Scenario.from_yaml("scenarios/baseline.yaml").with_years(0.25)
with_fee = scenario + {
    "policies": {"claim_fee": {"start_date": "2026-01-01", "fee_gbp": 10.0}}
}
result = run(with_fee, seed=1)
print(json.dumps({
    "registered": list(registered()),
    "charged": result.summary["policies"]["claim_fee"]["claims_charged"],
    "fees": result.summary["cost_by_category_gbp"]["claim_fees"],
    "claims": result.summary["claims"],
}))
"""


def test_a_policy_registered_by_another_package_is_found_and_runs(tmp_path):
    (tmp_path / "claim_fee_policy.py").write_text(textwrap.dedent(PLUGIN))
    info = tmp_path / "claim_fee_policy-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: claim-fee-policy\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[asylum_sim.policies]\nclaim_fee = claim_fee_policy:ClaimFeeConfig\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", CHECK],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert "claim_fee" in found["registered"] and "offshore" in found["registered"]
    assert found["charged"] > 0
    assert found["fees"] == 10.0 * found["charged"]


def test_an_unknown_policy_name_lists_the_registered_ones():
    from simulation import Scenario, ScenarioError
    from simulation.inputs.policy_config import registered

    scenario = Scenario.from_yaml(ROOT / "scenarios" / "baseline.yaml")
    try:
        scenario + {"policies": {"return_hub": {"start_date": "2026-01-01"}}}
    except ScenarioError as exc:
        lines = exc.lines()
    else:
        raise AssertionError("an unknown policy was accepted")
    assert len(lines) == 1 and lines[0].startswith("policies.return_hub: unknown policy")
    assert all(name in lines[0] for name in registered())
