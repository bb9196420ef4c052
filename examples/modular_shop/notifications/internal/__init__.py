"""Private to the notifications module: no other module may import from here."""
