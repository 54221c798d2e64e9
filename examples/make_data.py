#!/usr/bin/env python3
"""Writes the small synthetic example datasets in examples/data (deterministic: rerunning changes nothing)."""

from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).resolve().parent / "data"
PRODUCTS = ["router", "thermostat", "doorbell", "smart plug", "camera", "speaker", "light strip", "hub"]
PROBLEMS = [
    (
        "won't connect to Wi-Fi",
        "Restart the {p}, move it within 10 metres of the router and re-run setup from the app.",
    ),
    ("keeps rebooting", "Update the {p} firmware from the app; if it still reboots, hold reset for 10 seconds."),
    ("shows offline in the app", "Check the {p} has power, then remove and re-add it in the app."),
    (
        "is not responding to voice commands",
        "Confirm the {p} is linked in the assistant settings and re-enable the skill.",
    ),
]
SYSTEM = "You are a concise, friendly support agent for Acme Home devices."


def converse(user: str, assistant: str | None) -> dict:
    messages = [{"role": "user", "content": [{"text": user}]}]
    if assistant is not None:
        messages.append({"role": "assistant", "content": [{"text": assistant}]})
    return {"schemaVersion": "bedrock-conversation-2024", "system": [{"text": SYSTEM}], "messages": messages}


def support_pairs():
    for product in PRODUCTS:
        for problem, answer in PROBLEMS:
            yield f"My {product} {problem}. What should I do?", answer.format(p=product)


def write(name: str, records) -> None:
    path = OUT / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def main() -> None:
    pairs = list(support_pairs())
    write("support/train.jsonl", [converse(q, a) for q, a in pairs[:24]])
    write("support/validation.jsonl", [converse(q, a) for q, a in pairs[24:]])
    prompts = [
        f"Customer {i}: my {PRODUCTS[i % len(PRODUCTS)]} {PROBLEMS[i % len(PROBLEMS)][0]} since update {i}. Help?"
        for i in range(120)
    ]
    write("support/prompts.jsonl", [converse(p, None) for p in prompts])
    write(
        "docs/corpus.jsonl",
        [
            {"input": f"Acme Home {p.title()} manual, section {i}: " + a.format(p=p)}
            for i, (p, (_, a)) in enumerate((p, x) for p in PRODUCTS for x in PROBLEMS)
        ],
    )
    write(
        "math/train.jsonl",
        [
            {
                "messages": [
                    {"role": "system", "content": "Answer with the number only."},
                    {"role": "user", "content": f"What is {a} + {b} * 2?"},
                ],
                "reference_answer": {"value": a + b * 2},
                "difficulty": "easy" if a < 50 else "medium",
            }
            for a, b in ((i * 7 % 97, i * 13 % 89) for i in range(120))
        ],
    )
    write("legacy/train.jsonl", [{"prompt": q, "completion": a} for q, a in pairs])
    # A model evaluation's custom prompt dataset (docs:model-evaluation-prompt-datasets-custom): `prompt`, and the
    # `referenceResponse` question-and-answer accuracy compares against; the held-out pairs, as questions.
    write(
        "support/evaluation.jsonl",
        [
            {"prompt": q, "referenceResponse": a, "category": PRODUCTS[i // len(PROBLEMS)]}
            for i, (q, a) in enumerate(pairs)
            if i >= 24
        ],
    )


if __name__ == "__main__":
    main()
