"""The Pyomo formulation, one module per subsystem (see docs/formulation.md)."""

from models.build import build_model

__all__ = ["build_model"]
