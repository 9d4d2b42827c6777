"""Hand-off to HiGHS, the phased solve strategy, matrix reuse, and the pipeline that
builds, solves, extracts and checks a plan."""
