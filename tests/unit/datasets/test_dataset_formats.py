"""docs/dataset-formats.md cannot drift: its examples validate and its limits are the catalog's."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from tailor.config.catalog import load_catalog
from tailor.datasets import validate_stream

ROOT = Path(__file__).resolve().parents[3]
DOC = (ROOT / "docs" / "dataset-formats.md").read_text()
CATALOG = load_catalog()
# A fenced JSON example, the model it is checked against, then its bullets (up to the next example or section).
EXAMPLE = re.compile(r"```json\n(.+?)\n```\nChecked against: `([^`]+)` `([a-z_]+)`\n(.*?)(?=\n```|\n## |\Z)", re.S)
EXAMPLES = EXAMPLE.findall(DOC)


def test_the_page_has_an_example_for_every_format_the_catalog_uses():
    # Then each record format the catalog uses has at least one checked example
    used = {c.training_rules.format for m in CATALOG.models.values() for c in m.customizations.values()}
    shown = {CATALOG.models[model].customizations[ctype].training_rules.format for _, model, ctype, _ in EXAMPLES}
    assert used <= shown and len(EXAMPLES) >= 8


@pytest.mark.parametrize(("record", "model", "ctype", "notes"), EXAMPLES, ids=[f"{e[1]}-{e[2]}" for e in EXAMPLES])
def test_each_example_record_is_valid_for_its_model(record, model, ctype, notes):
    # Given the example record, repeated up to the model's minimum count
    rules = CATALOG.models[model].customizations[ctype].training_rules
    count = max(rules.min_records or 1, rules.recommended_min_records or 1)
    data = (json.dumps(json.loads(record)) + "\n").encode() * count

    # When validated with the catalog's rules, in the example's own bucket
    report = validate_stream(io.BytesIO(data), rules, source="example", dataset_bucket="my-datasets")

    # Then it passes clean
    assert report.ok and report.warnings == (), report.render()


def _number(text: str) -> int:
    return int(text.replace(",", ""))


@pytest.mark.parametrize(("record", "model", "ctype", "notes"), EXAMPLES, ids=[f"{e[1]}-{e[2]}" for e in EXAMPLES])
def test_each_quoted_limit_is_the_catalogs(record, model, ctype, notes):
    # Given the "Limits:" bullet under the example
    (limits,) = re.findall(r"- Limits: (.+?)\.\n?$", notes.replace("\n  ", " "), flags=re.M | re.S)
    customization = CATALOG.models[model].customizations[ctype]
    training, validation = customization.training_rules, customization.validation_rules

    # Then every figure in it is the catalog's, and nothing the catalog limits is left unsaid
    span = re.search(r"training ([\d,]+)-([\d,]+) records", limits)
    assert span and (_number(span[1]), _number(span[2])) == (training.min_records, training.max_records)
    val = re.search(r"validation at most ([\d,]+) records", limits)
    assert (_number(val[1]) if val else None) == (validation.max_records if validation else None)
    tokens = re.search(r"at most ([\d,]+) tokens per record", limits)
    assert (_number(tokens[1]) if tokens else None) == training.max_tokens_per_record
