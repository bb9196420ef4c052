"""Worked examples that the handbook's articles include; tests/examples/ runs them."""
