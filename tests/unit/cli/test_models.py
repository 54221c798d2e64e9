"""`tailor models`: the catalog by Region and customization type, with ranges, so nobody reads YAML to choose."""

from __future__ import annotations

import json

import pytest

from tailor.cli import main
from tailor.config.catalog import load_catalog

CATALOG = load_catalog()


def run(argv, capsys) -> tuple[int, str, str]:
    code = main(["models", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_lists_every_region_type_and_model_of_the_catalog_once(capsys):
    code, out, _ = run(["--json"], capsys)
    rows = json.loads(out)
    expected = {
        (region, ctype, model.model_id)
        for model in CATALOG.models.values()
        for ctype, customization in model.customizations.items()
        for region in customization.regions
    }
    assert code == 0 and len(rows) == len(expected) == len({(r["region"], r["type"], r["model"]) for r in rows})
    assert {(r["region"], r["type"], r["model"]) for r in rows} == expected
    for row in rows:  # every hyperparameter with its catalog range and default
        hps = CATALOG.models[row["model"]].customizations[row["type"]].hyperparameters
        assert set(row["hyperparameters"]) == set(hps)
        for name, spec in row["hyperparameters"].items():
            assert spec["default"] == hps[name].default
            if spec["type"] != "enum":
                assert (spec["min"], spec["max"]) == (hps[name].minimum, hps[name].maximum)


def test_text_groups_by_region_then_type_with_each_range_and_default(capsys):
    code, out, _ = run(["--region", "us-east-1", "--type", "fine_tuning"], capsys)
    lines = out.splitlines()
    assert code == 0 and "us-east-1" in lines and "  fine_tuning" in lines
    assert "us-west-2" not in lines and "  distillation" not in lines
    micro = lines.index(next(line for line in lines if line.startswith("    amazon.nova-micro-v1:0:128k  (")))
    block = "\n".join(lines[micro : micro + 5])
    assert "Amazon Nova Micro; current; Provisioned Throughput; on-demand deployment" in block
    assert "data: converse JSON Lines, with validation_data" in block
    assert "epochCount               a whole number from 1 to 5; default 2" in block


def test_distillation_rows_name_the_teachers_of_that_student_in_that_region(capsys):
    code, out, _ = run(["amazon.nova-lite-v1:0:300k", "--type", "distillation"], capsys)
    assert code == 0
    assert "teachers: amazon.nova-pro-v1:0, amazon.nova-premier-v1:0" in out


def test_part_of_a_model_id_selects_every_model_containing_it(capsys):
    _, out, _ = run(["llama3-2", "--json"], capsys)
    assert {r["model"] for r in json.loads(out)} == {m for m in CATALOG.models if "llama3-2" in m}


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--type", "fine-tuning"],
            "tailor: error: --type 'fine-tuning' is unknown; did you mean fine_tuning? allowed: fine_tuning, "
            "continued_pre_training, distillation, reinforcement_fine_tuning",
        ),
        (
            ["--region", "eu-west-1"],
            "tailor: error: --region 'eu-west-1' has no customizable model in the catalog; Regions that do: "
            + ", ".join(CATALOG.regions),
        ),
        (["nova-mega"], "tailor: error: no catalog model id is or contains 'nova-mega'; catalog models: "),
        (
            ["nova-micro", "--region", "us-west-2"],
            "tailor: error: no catalog entry matches model nova-micro and Region us-west-2; the models asked for "
            "offer: distillation in us-east-1, fine_tuning in us-east-1",
        ),
    ],
)
def test_a_filter_that_matches_nothing_is_one_line_exit_2(capsys, argv, message):
    code, out, err = run(argv, capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith(message)
