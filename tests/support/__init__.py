"""Helpers shared by the test suites: real kubectl against the real local control plane."""

from __future__ import annotations
