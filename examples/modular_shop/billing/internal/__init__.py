"""Private to the billing module: no other module may import from here."""
