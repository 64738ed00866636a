"""fw_policy: policies by name (``onnx``, ``classic``), ONNX model validation, the policy node.

The cores (:mod:`registry`, :mod:`onnx_model`, :mod:`classic`) import no ROS.
"""
