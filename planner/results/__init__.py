"""Plan tables, the independent check, plan workbook export and charts (reads inputs only)."""
