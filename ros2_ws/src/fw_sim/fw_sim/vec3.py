"""3-vector arithmetic on plain tuples for the per-sample sensor paths.

numpy costs about a microsecond per call on 3-element arrays, more than the arithmetic itself;
the IMU and ground truth run hundreds of times per simulated second, so they use these.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["Vec3", "cross", "rotate_transposed", "sub"]

Vec3 = tuple[float, float, float]


def sub(a: Sequence[float], b: Sequence[float]) -> Vec3:
    """a - b."""
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def cross(a: Sequence[float], b: Sequence[float]) -> Vec3:
    """a × b."""
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def rotate_transposed(m: Sequence[float], v: Sequence[float]) -> Vec3:
    """Rᵀ v for a row-major 3×3 rotation R given as 9 numbers (``getMatrixFromQuaternion``):
    a world-frame vector expressed in the rotated (body) frame."""
    return (
        m[0] * v[0] + m[3] * v[1] + m[6] * v[2],
        m[1] * v[0] + m[4] * v[1] + m[7] * v[2],
        m[2] * v[0] + m[5] * v[1] + m[8] * v[2],
    )
