"""The learning benchmark's verdicts and its pooling of runs: names, the scenario-resampled
gain, what pools and what is refused, on small hand-made success tables."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from bench_learning import _parser
from learning_verdicts import gain, load_runs, print_verdicts, trained_name

SCENARIOS = list(range(100, 180))
COMMAND = "python bench/bench_learning.py --family mixed --noisy-demos 200 --ensemble 3"


def _table(seeds: list[int], bc: set[int], dagger: set[int]) -> dict[str, dict[int, bool]]:
    """Every seed's BC policy reaches ``bc``, its DAgger round ``dagger``; ``classic`` the
    first four scenarios, the experts all of them."""
    table = {
        "classic": {s: s < 104 for s in SCENARIOS},
        "expert": dict.fromkeys(SCENARIOS, True),
        "expert on the robot's localisation": dict.fromkeys(SCENARIOS, True),
    }
    for seed in seeds:
        table[trained_name("BC", seed, seeds)] = {s: s in bc for s in SCENARIOS}
        table[trained_name("BC + 1 DAgger round", seed, seeds)] = {
            s: s in dagger for s in SCENARIOS
        }
    return table


def _write(
    path: Path, seeds: list[int], table: dict[str, dict[int, bool]], extra: str = ""
) -> Path:
    command = f"{COMMAND} --train-seeds {' '.join(map(str, seeds))} {extra}".strip()
    success = {name: {str(s): won for s, won in by.items()} for name, by in table.items()}
    path.write_text(json.dumps({"command": command, "success": success}))
    return path


def test_a_seed_is_named_only_when_a_run_has_several() -> None:
    assert trained_name("BC", 3, [3]) == "BC"
    assert trained_name("BC", 3, [3, 4]) == "BC (training seed 3)"


def test_runs_pool_under_one_name_per_seed_and_a_clear_gain_is_met(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bc = set(SCENARIOS[:72])  # 90 %
    dagger = set(SCENARIOS[:78])  # 97.5 %: 6 scenarios won by every seed
    one = _write(tmp_path / "a.json", [0], _table([0], bc, dagger), "--heldout 200 --ray")
    two = _write(tmp_path / "b.json", [1, 2], _table([1, 2], bc, dagger))
    success, seeds = load_runs([one, two], SCENARIOS, "heldout", _parser().parse_known_args)
    assert seeds == [0, 1, 2]
    assert sum(success["BC (training seed 0)"].values()) == 72
    assert sum(success["BC + 1 DAgger round (training seed 2)"].values()) == 78
    assert print_verdicts(success, seeds, SCENARIOS)
    out = capsys.readouterr().out
    assert "BC >= 90 %: met (pooled 90.0%" in out
    assert "DAgger beats BC: met (paired +7.5%" in out
    assert "3 of 3 seeds above their BC policy" in out
    assert "both beat classic: met" in out


def test_a_gain_made_by_a_few_scenarios_is_judged_on_the_scenarios_not_the_pairs() -> None:
    """Ten seeds that all win the same two scenarios: 20 of 800 pairs won, which resampling
    pairs calls certain, yet it is two scenarios of 80."""
    seeds = list(range(10))
    success = _table(seeds, set(SCENARIOS[:72]), set(SCENARIOS[:74]))
    names = {
        what: {s: trained_name(what, s, seeds) for s in seeds}
        for what in ("BC", "BC + 1 DAgger round")
    }
    result = gain(success, names["BC + 1 DAgger round"], names["BC"], SCENARIOS)
    by_scenario, pairs = result.scenarios, result.pairs
    assert by_scenario.value == pytest.approx(0.025)
    assert by_scenario.n == len(SCENARIOS)
    assert by_scenario.low == 0.0  # a resample without either scenario gains nothing
    assert pairs.value == pytest.approx(by_scenario.value) and pairs.low > 0.0


def test_no_gain_is_not_met_and_bc_under_90_is_not_met(capsys: pytest.CaptureFixture[str]) -> None:
    success = _table([0, 1], set(SCENARIOS[:60]), set(SCENARIOS[:60]))
    assert not print_verdicts(success, [0, 1], SCENARIOS)
    out = capsys.readouterr().out
    assert "BC >= 90 %: not met (pooled 75.0%" in out
    assert "DAgger beats BC: not met (paired +0.0%" in out


@pytest.mark.parametrize(
    ("second_seeds", "extra", "table_edit", "refusal"),
    [
        ([0], "", None, "training seeds overlap"),
        ([1], "--dagger-episodes 50", None, "ran other settings: dagger_episodes"),
        ([1], "--dagger-rounds 2", None, r"settings this bench no longer has: \['--dagger-rounds"),
        ([1], "--heldout many", None, "its command does not parse"),
        ([1], "--scenarios validation", None, "ran on the validation scenarios, not heldout"),
        ([1], "", "no classic", "no results for classic"),
        ([1], "", "drop", "no result for 1 of the 80 scenarios, from 179"),
        ([1], "", "classic", "classic results differ"),
    ],
)
def test_runs_that_cannot_pool_are_refused_with_the_reason(
    tmp_path: Path,
    second_seeds: list[int],
    extra: str,
    table_edit: str | None,
    refusal: str,
) -> None:
    first = _write(tmp_path / "a.json", [0], _table([0], set(SCENARIOS), set(SCENARIOS)))
    table = _table(second_seeds, set(SCENARIOS), set(SCENARIOS))
    if table_edit == "drop":
        del table[trained_name("BC", second_seeds[0], second_seeds)][SCENARIOS[-1]]
    elif table_edit == "no classic":
        del table["classic"]
    elif table_edit == "classic":
        table["classic"][SCENARIOS[-1]] = True
    second = _write(tmp_path / "b.json", second_seeds, table, extra)
    with pytest.raises(ValueError, match=refusal):
        load_runs([first, second], SCENARIOS, "heldout", _parser().parse_known_args)


def test_a_file_that_is_not_a_results_file_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"command": "python bench/bench_learning.py"')
    with pytest.raises(ValueError, match="not a bench_learning results file"):
        load_runs([broken], SCENARIOS, "heldout", _parser().parse_known_args)
