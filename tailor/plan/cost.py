"""What the plan's worst-case month adds up to (the ledger every entry charges), and the budget check that refuses
a config whose month, or one sweep of it, the budget cannot hold."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tailor.config.models import Model
from tailor.errors import Problem
from tailor.plan.render import money


@dataclass
class Ledger:
    """What the worst-case month adds up to, and what it leaves out for want of a price."""

    items: list[dict[str, Any]] = field(default_factory=list)
    unpriced: list[str] = field(default_factory=list)

    def charge(self, item: str, model: Model, price_name: str, quantity: float) -> tuple[float | None, bool | None]:
        """quantity x the catalog price, rounded to cents, or (None, None) and a note when there is no price."""
        price = model.prices.get(price_name)
        if price is None:
            self.unpriced.append(f"{item}: the catalog has no {price_name} price for {model.model_id}")
            return None, None
        usd = round(quantity * price.usd, 2)
        self.items.append({"item": item, "usd": usd, "confirmed": price.confirmed})
        return usd, price.confirmed


def budget_problems(plan: dict[str, Any], source: str) -> list[Problem]:
    """One problem when the plan's worst-case month exceeds policy.monthly_budget_usd; none otherwise."""
    budget, worst = plan["budget_usd"], plan["worst_case_month_usd"]
    if budget is None:
        return []
    sweeps = _sweep_budget_problems(plan, source, budget)
    if sweeps:
        return sweeps
    # Hourly throughput is the cost that can run away; without its price the budget check would pass anything.
    unpriced = [s for s in plan["servings"] if s["mode"] == "provisioned" and s["worst_case_usd"] is None]
    if unpriced:
        return [
            Problem(
                source,
                s["path"],
                (
                    "cannot be priced: the catalog has no provisioned_per_mu_hour for "
                    f"{s['base_model']}, so policy.monthly_budget_usd "
                    "cannot be checked; add that price to catalog/models.yaml (or remove the budget)"
                ),
            )
            for s in unpriced
        ]
    if worst <= budget:
        return []
    largest = sorted(plan["worst_case_items"], key=lambda i: i["usd"], reverse=True)[:3]
    named = ", ".join(f"{i['item']} {money(i['usd'])}" for i in largest)
    return [
        Problem(
            source,
            "policy.monthly_budget_usd",
            (
                f"the worst case this month is {money(worst)}, over the {money(budget)} budget; largest: {named}; "
                "lower hours or model_units, remove entries, or raise monthly_budget_usd"
            ),
        )
    ]


def _sweep_budget_problems(plan: dict[str, Any], source: str, budget: float) -> list[Problem]:
    """A sweep multiplies a job's cost by its trials: one the budget cannot hold (or cannot price) is refused."""
    problems = []
    for job in plan["jobs"]:
        sweep = job.get("sweep")
        if not sweep:
            continue
        path = f"jobs.{job['key']}.sweep"
        if sweep["total_usd"] is None:
            problems.append(
                Problem(
                    source,
                    path,
                    (
                        f"cannot be priced ({sweep['unpriced']}), so policy.monthly_budget_usd cannot hold its "
                        f"{len(sweep['trials'])} trials; use local training data (its tokens are counted at synth), "
                        "or remove the budget"
                    ),
                )
            )
        elif sweep["total_usd"] > budget:
            problems.append(
                Problem(
                    source,
                    path,
                    (
                        f"its {len(sweep['trials'])} trials cost {money(sweep['total_usd'])} (training "
                        f"{money(sweep['training_usd'] or 0)}, storage {money(sweep['storage_usd'])}, evaluation "
                        f"{money(sweep['evaluation_usd'] or 0)}), over the whole {money(budget)} budget; sweep fewer "
                        "values, evaluate fewer trials (evaluate.top), or raise monthly_budget_usd"
                    ),
                )
            )
    return problems
