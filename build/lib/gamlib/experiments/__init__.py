"""Experiments that write run records: language-model runs, recall runs, the scaling sweep."""
