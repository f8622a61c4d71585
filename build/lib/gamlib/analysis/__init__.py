"""Analysis of run records: the paper's numbers, tables, statistics over seeds, fits and figures."""
