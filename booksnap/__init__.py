"""booksnap's client side: the ``booksnap`` command line and the Python client of the query process.

``QueryClient`` (``booksnap.client``) sends requests to a running query process; the command line
(``booksnap.cli``) is a thin layer over it. The processes themselves live in ``collector``,
``writer``, ``query`` and ``simulator``.
"""
