"""Capacity planner for AI compute: least-cost build plans with Pyomo and HiGHS."""

__version__ = "0.1.0"
