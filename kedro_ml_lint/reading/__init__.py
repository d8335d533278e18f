"""Reading a Kedro project: its configuration, catalog, pairs, sources and dependencies.

Importing this package imports nothing else: the cache's warm path imports
:mod:`kedro_ml_lint.reading.snapshot` without importing Kedro (docs/design.md §13).
"""
