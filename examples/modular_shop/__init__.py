"""A small shop built as a modular monolith: the worked example of "Modules in a monolith".

Three modules, ``orders``, ``billing`` and ``notifications``, each with a public
facade in ``api.py`` and private code in ``internal/``. ``db.py`` and
``events.py`` are the shared kernel; ``app.py`` is the composition root that
wires the modules together. ``examples/modular_monolith.py`` checks the
boundaries, runs the delivery scenarios and measures the cost of a fake network.
"""
