import math

import pytest

from halubench.scoring import EXACT_BELOW, binomial_two_sided_half, chi2_1_sf, macro_interval, mcnemar


def test_exact_mcnemar_matches_the_binomial_by_hand():
    # b=1, c=9: P(X<=1 | n=10, 1/2) = 11/1024, doubled.
    result = mcnemar(1, 9)
    assert result.method == "exact binomial" and result.statistic is None
    assert result.p_value == pytest.approx(22 / 1024)
    assert mcnemar(9, 1).p_value == result.p_value


def test_exact_mcnemar_edges():
    assert mcnemar(0, 0).p_value == 1.0
    assert mcnemar(5, 5).p_value == 1.0
    assert binomial_two_sided_half(0, 5) == pytest.approx(2 / 32)


def test_chi_square_is_used_from_25_discordant_pairs():
    assert mcnemar(12, EXACT_BELOW - 12 - 1).method == "exact binomial"
    result = mcnemar(10, 30)
    assert result.method == "chi-square with continuity correction"
    assert result.statistic == pytest.approx((20 - 1) ** 2 / 40)
    assert result.p_value == pytest.approx(chi2_1_sf(9.025))
    assert "only A right" in result.describe()


@pytest.mark.parametrize("statistic, p", [(3.841458820694124, 0.05), (6.634896601021214, 0.01), (0.0, 1.0)])
def test_chi2_one_df_tail_matches_table_values(statistic, p):
    assert chi2_1_sf(statistic) == pytest.approx(p, rel=1e-9)


def test_macro_interval_brackets_the_mean_and_shrinks_with_n():
    low, high = macro_interval([(80, 100), (60, 100)])
    assert low < 0.70 < high
    wide = macro_interval([(8, 10), (6, 10)])
    assert wide[1] - wide[0] > high - low
    perfect = macro_interval([(50, 50)])
    assert perfect[1] == 1.0 and perfect[0] < 1.0  # 100% still has uncertainty
    assert macro_interval([]) is None
    assert macro_interval([(3, 0)]) is None
    assert not math.isnan(low)
