"""Private to the orders module: no other module may import from here."""
