"""Reading, validating and generating input workbooks: the contract's one source."""
