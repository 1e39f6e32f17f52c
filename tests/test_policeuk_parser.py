"""Property tests: the row validator never crashes and never lets a bad value through."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from placewise.lib.policeuk import CATEGORIES, UK_BOUNDS, Rejected, RowValidator

TODAY = dt.date(2026, 11, 23)
text = st.text(max_size=30)
row = st.lists(text, min_size=0, max_size=14)
plausible = st.tuples(
    text,
    st.one_of(st.just("2021-05"), text),
    text,
    st.one_of(st.just("Leics"), text),
    st.one_of(st.floats(allow_nan=True).map(str), text),
    st.one_of(st.floats().map(str), text),
    text,
    st.one_of(st.just("E01025631"), text),
    text,
    st.one_of(st.sampled_from(sorted(CATEGORIES)), text),
    text,
    text,
).map(list)


@settings(max_examples=400, deadline=None)
@given(st.one_of(row, plausible))
def test_validator_returns_row_or_rejection(values):
    result = RowValidator(frozenset({"E01025631"}), TODAY).check(values, 2)
    if isinstance(result, Rejected):
        assert result.reason and result.row_number == 2
        return
    force, month_text, *_rest = result
    month = dt.date.fromisoformat(month_text)
    lon, lat, category = result[4], result[5], result[10]
    assert len(values) == 12 and force
    assert month <= TODAY.replace(day=1) and month.day == 1
    assert category in CATEGORIES
    if lon is not None:
        west, south, east, north = UK_BOUNDS
        assert west <= lon <= east and south <= lat <= north
