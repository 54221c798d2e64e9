"""docs/costs.md counts the resources each environment deploys: the counts are the synthesized templates'."""

from __future__ import annotations

import json
import re
from collections import Counter

from tests.conftest import ROOT


def documented() -> dict[str, tuple[int, int]]:
    text = (ROOT / "docs" / "costs.md").read_text()
    rows = re.findall(r"^\| `(AWS::[A-Za-z0-9:]+)` \| (\d+) \| (\d+) \|", text, re.M)
    return {kind: (int(dev), int(prod)) for kind, dev, prod in rows}


def deployed(outdir, env: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for path in outdir.glob(f"Tailor-{env}-*.template.json"):
        counts.update(r["Type"] for r in json.loads(path.read_text())["Resources"].values())
    return counts


def test_the_documented_resource_counts_are_the_deployed_ones(assembly):
    outdir, _ = assembly
    table = documented()
    assert len(table) >= 10
    dev, prod = deployed(outdir, "dev"), deployed(outdir, "prod")
    assert {kind: (dev[kind], prod[kind]) for kind in table} == table


def test_every_resource_type_that_can_bill_while_idle_is_in_the_table(assembly):
    # Types that cost nothing by existing (IAM, policies, permissions, invoke configs, subscriptions, metadata)
    # and the per-job custom resources (priced by the plan) are left out on purpose.
    free = {"IAM", "CDK", "Lambda::Permission", "Lambda::EventInvokeConfig", "SNS::Subscription", "SNS::TopicPolicy"}
    free |= {"SQS::QueuePolicy", "S3::BucketPolicy"}
    outdir, _ = assembly
    kinds = set(deployed(outdir, "dev")) | set(deployed(outdir, "prod"))
    billable = {
        k for k in kinds if k.startswith("AWS::") and not any(f"::{f}" in k or k.startswith(f"AWS::{f}") for f in free)
    }
    assert billable <= set(documented()), billable - set(documented())
