"""The version of kedro-ml-lint: its own module, so no layer imports the root package for it."""

__version__ = "0.5.1"
