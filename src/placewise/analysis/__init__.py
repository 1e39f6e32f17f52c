"""Pure analysis code (pandas/numpy only, no Django) behind Placewise's reference data."""
