"""Explanations of a plan (binding limits), diagnosis of infeasible inputs, and review
(locks, diff)."""
