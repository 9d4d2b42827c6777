"""What-if studies: scenarios and sweeps, the runner (local, Dask, cache), the study workbook."""
