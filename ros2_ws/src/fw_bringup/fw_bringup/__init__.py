"""Bringing up a robot's nodes from its robot profile.

:mod:`node_parameters` is the profile → node-parameters mapping shared by the launch files and the
in-process bringup; :mod:`nodes` says which nodes exist; :mod:`robot` composes them in one process
for hosts without the launch tools (tests, the demo, simulated fleets).
"""
