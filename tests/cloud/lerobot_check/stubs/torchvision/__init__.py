"""An import-only stand-in for torchvision in the LeRobot check's venv.

PyPI's torchvision wheels do not load beside the CPU build of torch 2.13, and lerobot 0.4.4
imports ``torchvision`` (and ``torchvision.transforms``) when its dataset module is imported,
though only image and video features use it. Flywheel's datasets have none, so the check puts
this package first on the venv's path: importing works, and it holds nothing to use.
"""
