"""Evaluation: policies scored on seeded, randomised scenarios in the headless world, with
confidence intervals, a paired comparison against a baseline and the release gate.

    from cloud_bridge.evaluate import GateConfig, compare, evaluate, gate
    candidate = evaluate("model.onnx", seeds, family="open", profile=profile)
    baseline = evaluate("classic", seeds, family="open", profile=profile)
    verdict = gate(candidate.summary, compare(candidate.episodes, baseline.episodes),
                   GateConfig(min_success_rate=0.9))
"""

from cloud_bridge.evaluate.comparison import Comparison, compare
from cloud_bridge.evaluate.episode import EpisodeResult, EpisodeSpec, EpisodeTiming, run_episode
from cloud_bridge.evaluate.evaluation import evaluate
from cloud_bridge.evaluate.gate import GateConfig, GateResult, gate, load_gate_config
from cloud_bridge.evaluate.intervals import Interval
from cloud_bridge.evaluate.metrics import Summary, summarise
from cloud_bridge.evaluate.report import EvaluationReport

__all__ = [
    "Comparison",
    "EpisodeResult",
    "EpisodeSpec",
    "EpisodeTiming",
    "EvaluationReport",
    "GateConfig",
    "GateResult",
    "Interval",
    "Summary",
    "compare",
    "evaluate",
    "gate",
    "load_gate_config",
    "run_episode",
    "summarise",
]
