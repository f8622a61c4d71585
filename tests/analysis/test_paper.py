"""gamlib.analysis.paper: the paper's tables hold the reported numbers, also as read by fits, tables and params."""
from gamlib.analysis.fits import scaling_exponents
from gamlib.analysis.paper import PAPER, PAPER_TABLE1, PAPER_TABLE2, PAPER_TABLE3, paper_table2_rows
from gamlib.analysis.params import paper_config_params
from gamlib.analysis.tables import scaling_table


def test_paper_tables_are_the_reported_numbers():
    assert len(PAPER_TABLE1) == 5 and PAPER_TABLE1["val_ppl"].tolist() == [918.99, 1017.54, 882.57, 23.55, 23.15]
    assert PAPER_TABLE2["transformer_ms"].isna().sum() == 2 and PAPER_TABLE2["gam_mb"].iloc[-1] == 4707.35
    assert PAPER_TABLE3["params_m"].tolist() == [22.6, 19.4, 19.4, 17.9]
    rows = paper_table2_rows()
    assert (rows["source"] == PAPER).all() and (rows["status"] == "oom").sum() == 2
    exponents = scaling_exponents(rows).set_index("series")
    assert exponents.loc["gam full", "time_exponent"] < 1.0
    assert exponents.loc["transformer naive", "memory_exponent"] > 1.5
    assert scaling_table(rows, "median_ms", 2).loc[4096].tolist() == ["105.03", "OOM"]
    counted = paper_config_params([("gam", "local_only")]).iloc[0]
    assert (counted["params"], counted["params_m"], counted["paper_params_m"]) == (17_874_944, 17.9, 17.9)
