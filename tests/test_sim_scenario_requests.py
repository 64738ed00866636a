"""The sim node's run-time requests: a ``seed`` set picks the next scenario however often it is
set to the same value, and supervisor settings apply from the next scenario on, which says on
``fw/sim/scenario`` how it is supervised."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from geometry_msgs.msg import TwistStamped
from rcl_interfaces.srv import SetParameters
from rclpy.parameter import Parameter
from std_msgs.msg import String
from std_srvs.srv import Trigger

from fw_common import qos, topics
from fw_sim.sim_node import LABEL_QOS

pytestmark = pytest.mark.system


def _set(probe: Any, name: str, value: object) -> None:
    request = SetParameters.Request(parameters=[Parameter(name, value=value).to_parameter_msg()])
    response = probe.call(SetParameters, "/sim/set_parameters", request, timeout=10.0)
    assert response.results[0].successful, response.results[0].reason


def _new_scenario(probe: Any, scenarios: Any) -> dict[str, Any]:
    before = len(scenarios)
    assert probe.call(Trigger, "/" + topics.SIM_NEW_SCENARIO, Trigger.Request()).success
    assert scenarios.wait_for_count(before + 1, timeout=10.0), "no scenario announced"
    return json.loads(scenarios.latest().data)  # type: ignore[no-any-return]


def test_seed_and_supervisor_requests_apply_to_the_next_scenario(start_robot, probe) -> None:  # type: ignore[no-untyped-def]
    scenarios = probe.subscribe(String, "/" + topics.SIM_SCENARIO, qos.LATCHED)
    labels = probe.subscribe(TwistStamped, "/" + topics.EXPERT_CMD_VEL, LABEL_QOS)
    robot = start_robot(seed=3, nodes="sim", sets=["sim.real_time_factor=2"])
    assert scenarios.wait_for(timeout=30.0), robot.output()[-2000:]
    first = json.loads(scenarios.latest().data)
    assert first["seed"] == 3 and first["supervisor_mode"] == "label"

    _set(probe, "seed", 5)
    assert _new_scenario(probe, scenarios)["seed"] == 5
    assert _new_scenario(probe, scenarios)["seed"] == 6  # no request: the next seed
    _set(probe, "seed", 5)  # the value the parameter has: still a request
    assert _new_scenario(probe, scenarios)["seed"] == 5

    # A mode set now leaves the running scenario as it was supervised: it still labels.
    _set(probe, "supervisor.mode", "off")
    time.sleep(0.5)
    set_at = time.monotonic()
    assert labels.wait_for_count(len(labels) + 5, timeout=5.0), "labels stopped mid-scenario"
    assert labels.since(set_at)
    off = _new_scenario(probe, scenarios)
    assert off["seed"] == 6 and off["supervisor_mode"] == "off"
    time.sleep(0.3)  # labels already on their way
    quiet_from = time.monotonic()
    time.sleep(1.0)
    assert labels.since(quiet_from) == [], "the expert labels in mode off"
    assert robot.stop() == 0, robot.output()[-2000:]
