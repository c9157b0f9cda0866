"""``chainrule playground``: train a small network in the browser and watch it learn.

The pieces, each in its own module: :mod:`~chainrule.playground.options` (the setup and its
checks), :mod:`~chainrule.playground.data` (points, CSV, features, grid),
:mod:`~chainrule.playground.session` (network, optimizer, steps: plain chainrule),
:mod:`~chainrule.playground.frames` (what the page draws), :mod:`~chainrule.playground.
explain_point` (one example's forward and backward pass), :mod:`~chainrule.playground.runs`
(export and ``--load``), :mod:`~chainrule.playground.live` (one tab's training thread and
messages) and :mod:`~chainrule.playground.server` (Starlette on uvicorn, 127.0.0.1 only).
The page itself is ``static/`` (HTML, CSS and JavaScript; it only draws).

The web server needs the ``playground`` extra (``pip install 'chainrule[playground]'``);
everything but ``server`` runs without it.
"""
