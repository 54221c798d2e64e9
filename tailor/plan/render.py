"""The plan as text: a jobs table, a serving table and the month's worst case against the budget."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

UNCONFIRMED = "~"
UNCONFIRMED_NOTE = (
    f"{UNCONFIRMED} = from a catalog price marked confirmed: false "
    "(catalog/models.yaml); verify it before trusting it with money"
)


def render(plan: dict[str, Any]) -> str:
    head = (
        f"Plan for {plan['environment']} ({plan['region']}, account "
        f"{plan['account'] or 'from credentials'}): {len(plan['jobs'])} job(s)"
    )
    lines = [head, "", *_jobs_table(plan["jobs"])]
    for job in plan["jobs"]:
        if job.get("sweep"):
            lines += ["", *_sweep_section(job, plan["budget_usd"])]
    if plan["servings"]:
        lines += ["", *_servings_table(plan["servings"])]
    lines += ["", _worst_case(plan)]
    if not plan["worst_case_confirmed"]:
        lines.append(UNCONFIRMED_NOTE)
    if plan["servings"]:
        idle = plan.get("idle_minutes")
        lines.append(
            f"Idle guard: serving nobody calls for {idle} minutes is deleted before its expiry (policy.idle_minutes)"
            if idle
            else "Idle guard: off (policy.idle_minutes); serving lives its hours whether it is called or not"
        )
    notes = [f"  {job['key']}: {w}" for job in plan["jobs"] for w in job["warnings"]]
    notes += [f"  not counted: {u}" for u in plan["unpriced"]]
    if notes:
        lines += ["", "Warnings:"] + notes
    return "\n".join(lines)


def money(usd: float) -> str:
    return f"${usd:,.2f}"


def hours_text(hours: float | None) -> str:
    return "-" if hours is None else f"{hours:g}"


def _jobs_table(jobs: list[dict[str, Any]]) -> list[str]:
    header = (
        "job",
        "type",
        "base model",
        "data",
        "records",
        "est. training $",
        "storage $/mo",
        "hyperparameters (* = catalog default)",
    )
    rows = []
    for job in jobs:
        hps = (
            ", ".join(
                f"{k}={v}{'*' if k in job['defaulted_hyperparameters'] else ''}"
                for k, v in job["hyperparameters"].items()
            )
            or "-"
        )
        extra = f" <- {job['teacher_model']}" if job["teacher_model"] else ""
        if job.get("sweep"):
            extra += f" sweep ({len(job['sweep']['trials'])} trials)"
        rows.append(
            (
                job["key"],
                job["type"] + extra,
                job["base_model"],
                job["training_data"],
                _count(job["training_records"]),
                _usd(job["estimated_training_usd"], job["training_price_confirmed"]),
                _usd(job["storage_usd_per_month"], job["storage_price_confirmed"]),
                hps,
            )
        )
    return _table(header, rows, right={4, 5, 6})


def _sweep_section(job: dict[str, Any], budget: float | None) -> list[str]:
    """Each trial with its estimated training cost, the evaluation's throughputs, and the sweep's total."""
    sweep = job["sweep"]
    axes = list(sweep["axes"])
    search = "grid over " + " x ".join(axes) if sweep["search"] == "grid" else f"random search (seed {sweep['seed']})"
    lines = [
        (
            f"Sweep jobs.{job['key']}: {search}, {len(sweep['trials'])} trials, at most "
            f"{sweep['max_concurrent_jobs']} at a time (policy.max_concurrent_jobs), {sweep['rounds']} round(s)"
        ),
        f"Winner: {sweep['selection']}; only the winner is served",
    ]
    header = ("trial", "job name", *axes, "est. training $", "storage $/mo")
    rows = [
        (
            str(t["index"]),
            t["name"],
            *(str(t["hyperparameters"].get(a, "-")) for a in axes),
            _usd(t["estimated_training_usd"], t["training_price_confirmed"]),
            _usd(t["storage_usd_per_month"], t["storage_price_confirmed"]),
        )
        for t in sweep["trials"]
    ]
    lines += ["  " + line for line in _table(header, rows, right={len(axes) + 2, len(axes) + 3})]
    evaluation = sweep.get("evaluation")
    if evaluation:
        cost = _usd(evaluation["worst_case_usd"], evaluation["price_confirmed"]).strip()
        lines += [
            (
                f"  evaluation ${cost}: the {evaluation['top']} best by loss, each on Provisioned Throughput "
                f"({evaluation['model_units']} model unit(s), at most {hours_text(evaluation['hours'])} h each)"
            ),
            f"    {evaluation['metric']} on {evaluation['dataset']}; gate: {evaluation['gate']}",
        ]
    total = sweep["total_usd"]
    if total is None:
        lines.append(f"  sweep total: not counted ({sweep['unpriced']})")
    else:
        mark = "" if sweep["total_confirmed"] else UNCONFIRMED
        share = f" of the {money(budget)} budget ({total / budget * 100:.0f} %)" if budget else ""
        lines.append(
            f"  sweep total: {money(total)}{mark}{share} (training {money(sweep['training_usd'] or 0)}, storage "
            f"{money(sweep['storage_usd'])} for every trial's model, evaluation {money(sweep['evaluation_usd'] or 0)})"
        )
    return lines


def _servings_table(servings: list[dict[str, Any]]) -> list[str]:
    live = any("state" in s for s in servings)  # `tailor plan --live` adds what each entry is doing now
    header = ("serving", "mode", "model", "model units", "hours", "worst case $", "ends") + (("now",) if live else ())
    rows = []
    for s in servings:
        hours = f"{hours_text(s['billed_hours'])}/month" if s["commitment"] else hours_text(s["hours"])
        rows.append(
            (
                s["path"],
                s["mode"],
                _model(s),
                str(s["model_units"]) if s["model_units"] else "-",
                hours,
                _usd(s["worst_case_usd"], s["price_confirmed"]),
                s["ends"],
            )
            + ((s.get("state", "-"),) if live else ())
        )
    return _table(header, rows, right={3, 4, 5})


def _worst_case(plan: dict[str, Any]) -> str:
    worst, budget = plan["worst_case_month_usd"], plan["budget_usd"]
    text = f"Worst case this month: {money(worst)}{'' if plan['worst_case_confirmed'] else UNCONFIRMED}"
    if budget is None:
        text += "; no budget set (policy.monthly_budget_usd)"
    else:
        text += (
            f" of the {money(budget)} budget ({worst / budget * 100:.0f} %){': OVER BUDGET' if worst > budget else ''}"
        )
        # What AWS Budgets will watch: this environment's tagged spend, or the whole account's (policy.budget_scope)
        scope = (
            "the whole account's Bedrock spend" if plan.get("budget_scope") == "account" else "spend tagged environment"
        )
        text += f"; AWS Budgets watches {scope}"
    if plan["unpriced"]:
        text += f"; {len(plan['unpriced'])} item(s) not counted (see Warnings)"
    return text


def _model(serving: dict[str, Any]) -> str:
    kind, value = serving["model"]["kind"], serving["model"]["value"]
    if kind == "job":
        return f"job {value} ({serving['base_model']})"
    if kind == "custom_model":
        return f"custom model {value.rsplit('/', 1)[-1]} ({serving['base_model']})"
    return str(value)


def _usd(usd: float | None, confirmed: bool | None) -> str:
    """'?' when not priced (listed under Warnings); a trailing mark when the price is unconfirmed."""
    if usd is None:
        return "?"
    return f"{usd:,.2f}{UNCONFIRMED if confirmed is False else ' '}"


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], *, right: set[int]) -> list[str]:
    """Columns padded to their widest cell; the last is left ragged so one long cell does not widen the rest."""
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header) - 1)]

    def line(row: Sequence[str]) -> str:
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=False))]
        return "  ".join(cells) + "  " + row[-1]

    rule = "  ".join("-" * w for w in widths) + "  " + "-" * len(header[-1])
    return [line(header), rule, *(line(r) for r in rows)]
