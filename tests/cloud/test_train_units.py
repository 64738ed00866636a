"""The training side's small parts on their own: the weighted loss, targets and weights, the
split by episode, pooled statistics, early stopping and the settings' bounds."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest
import torch

from cloud_bridge.train.config import TrainConfig
from cloud_bridge.train.dataset_root import FeatureStats
from cloud_bridge.train.early_stopping import EarlyStopping
from cloud_bridge.train.examples import step_targets
from cloud_bridge.train.loss import weighted_action_loss
from cloud_bridge.train.normalisation import pooled_normalisation
from cloud_bridge.train.split import validation_episodes


def test_takeover_weight_pulls_the_loss_toward_the_takeover_steps() -> None:
    predicted = torch.tensor([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    target = torch.tensor([[0.1, 0.0], [0.1, 0.0], [1.0, 0.5]])  # the last is a take-over
    plain = weighted_action_loss(predicted, target, torch.tensor([1.0, 1.0, 1.0]))
    weighted = weighted_action_loss(predicted, target, torch.tensor([1.0, 1.0, 5.0]))
    errors = [0.01, 0.01, 1.25]
    assert float(plain) == pytest.approx(sum(errors) / 3)
    assert float(weighted) == pytest.approx((0.01 + 0.01 + 5 * 1.25) / 7)
    assert float(weighted) > float(plain)
    # Its gradient, too: the take-over step's share of the push grows with its weight.
    for weights, share in (
        (torch.tensor([1.0, 1.0, 1.0]), 1 / 3),
        (torch.tensor([1, 1, 5.0]), 5 / 7),
    ):
        x = predicted.clone().requires_grad_(True)
        weighted_action_loss(x, target, weights).backward()  # type: ignore[no-untyped-call]
        assert x.grad is not None
        assert float(x.grad[2, 0]) == pytest.approx(2 * (0.0 - 1.0) * share)


def test_the_loss_refuses_misaligned_shapes() -> None:
    with pytest.raises(ValueError, match="shapes disagree"):
        weighted_action_loss(torch.zeros(3, 2), torch.zeros(3, 2), torch.ones(2))


def _steps(**columns: list[object]) -> pa.Table:
    n = len(next(iter(columns.values())))
    defaults: dict[str, list[object]] = {
        "expert_linear": [math.nan] * n,
        "expert_angular": [math.nan] * n,
        "has_expert": [False] * n,
        "executed_linear": [0.0] * n,
        "executed_angular": [0.0] * n,
    }
    defaults.update(columns)
    return pa.table(defaults)


def test_targets_take_the_expert_label_else_the_executed_command_scaled_and_clipped() -> None:
    table = _steps(
        has_expert=[True, False, True, False, True],
        expert_linear=[0.4, 9.0, math.nan, 0.0, 2.0],
        expert_angular=[-0.5, 9.0, 0.0, 0.0, -3.0],
        executed_linear=[0.0, 0.2, 0.8, math.nan, 0.0],
        executed_angular=[0.0, 0.25, -1.0, 0.0, 0.0],
    )
    targets, finite = step_targets(table, (0.8, 1.0))
    assert finite.tolist() == [True, True, True, False, True]
    np.testing.assert_allclose(
        targets[[0, 1, 2, 4]],
        # the label; the executed command (no label); a NaN label falls back to what ran;
        # a label beyond the action scale is clipped to the tanh head's range.
        [[0.5, -0.5], [0.25, 0.25], [1.0, -1.0], [1.0, -1.0]],
        rtol=1e-6,
    )


def test_the_validation_split_holds_out_whole_episodes_reproducibly() -> None:
    episodes = np.array([f"0/sim/e{i % 10}" for i in range(200)], dtype=np.str_)
    mask = validation_episodes(episodes, 0.3, seed=4)
    held = set(episodes[mask])
    assert 0 < len(held) < 10 and not held & set(episodes[~mask])
    # Row order does not change the draw; the seed does.
    shuffled = np.random.default_rng(0).permutation(episodes)
    assert set(shuffled[validation_episodes(shuffled, 0.3, seed=4)]) == held
    assert any(
        set(episodes[validation_episodes(episodes, 0.3, seed=s)]) != held for s in range(5, 10)
    )
    # One episode always trains; none held out with one episode or a zero fraction.
    assert not validation_episodes(episodes[:1], 0.5, seed=0).any()
    assert not validation_episodes(episodes, 0.0, seed=0).any()
    assert len(set(episodes[validation_episodes(episodes, 0.99, seed=0)])) == 9
    assert not validation_episodes(episodes, 0.999999, seed=0).all()
    # A few episodes that all drew the training side still leave one to validate on.
    few = np.array(["0/sim/a", "0/sim/b", "0/sim/c"], dtype=np.str_)
    assert all(validation_episodes(few, 1e-9, seed=s).sum() == 1 for s in range(5))


def test_adding_episodes_moves_none_across_the_split() -> None:
    # DAgger resumes its parent on a grown union with the same seed: an episode the parent
    # trained on must not become a validation episode of the child, nor the reverse.
    parent = np.array([f"0/sim/e{i}" for i in range(400)], dtype=np.str_)
    child = np.concatenate([parent, np.array([f"1/sim/e{i}" for i in range(100)])])
    parent_held = set(parent[validation_episodes(parent, 0.2, seed=3)])
    child_mask = validation_episodes(child, 0.2, seed=3)
    assert set(child[child_mask]) & set(parent) == parent_held
    # About the fraction asked for, on the old episodes and the new ones alike.
    assert 0.15 < len(parent_held) / 400 < 0.25
    assert 0.1 < child_mask[400:].mean() < 0.3


def test_pooled_statistics_equal_those_of_the_union() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(2.0, 1.0, (50, 4)), rng.normal(-1.0, 3.0, (120, 4))
    b[:, 3] = a[:, 3].mean()  # a feature constant in b
    stats = [FeatureStats(x.mean(0), x.std(0), len(x)) for x in (a, b)]
    pooled = pooled_normalisation(stats)
    union = np.concatenate([a, b])
    np.testing.assert_allclose(pooled.mean, union.mean(0), rtol=1e-5)
    np.testing.assert_allclose(pooled.std, union.std(0), rtol=1e-5)
    constant = FeatureStats(np.zeros(4), np.zeros(4), 10)
    assert pooled_normalisation([constant]).std.tolist() == [1.0] * 4  # never divide by zero


def test_early_stopping_waits_patience_epochs_and_keeps_the_best_weights() -> None:
    stopper = EarlyStopping(patience=2, min_delta=0.01)
    losses = [1.0, 0.5, 0.495, 0.6, 0.7]
    stops = [
        stopper.update(i, loss, {"w": torch.tensor([float(i)])}) for i, loss in enumerate(losses)
    ]
    # 0.495 is not better by min_delta: epochs 2 and 3 without improvement, stop after epoch 3.
    assert stops[:4] == [False, False, False, True]
    assert stopper.best_epoch == 1 and stopper.best_state is not None
    assert float(stopper.best_state["w"][0]) == 1.0
    assert EarlyStopping(5, 0.0).update(0, math.nan, {}) is True  # diverged: stop at once


@pytest.mark.parametrize(
    "bad",
    [
        {"epochs": 0},
        {"ensemble_size": 0},
        {"hidden": ()},
        {"takeover_weight": 0.0},
        {"takeover_weight": math.nan},
        {"validation_fraction": 1.0},
        {"action_scale": (0.8, -1.0)},
        {"learning_rate": math.inf},
        {"parity_tolerance": 0.0},
    ],
)
def test_settings_out_of_bounds_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        TrainConfig(**bad)  # type: ignore[arg-type]


def test_the_flywheel_command_starts_without_loading_the_training_stack() -> None:
    """A robot has no torch: building ``flywheel``'s parser must not import it (or mlflow)."""
    code = (
        "import sys, cloud_bridge.cli as cli; cli.build_parser(); "
        "print(sorted(m for m in ('torch', 'mlflow', 'pyarrow', 'onnx') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_ensemble_members_draw_their_own_seeds() -> None:
    from cloud_bridge.train.ensemble import member_seed

    assert member_seed(7, 0) == 7  # a one-member run is the plain network
    seeds = {(run, m): member_seed(run, m) for run in range(3) for m in range(4)}
    assert len(set(seeds.values())) == len(seeds)  # neighbouring runs share no member
    assert member_seed(7, 2) == member_seed(7, 2)
