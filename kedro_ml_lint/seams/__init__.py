"""Every private or version-specific Kedro, MLflow and kedro-mlflow API, and nowhere else.

Each module says what it needs a private name for and which versions it was checked
against; on an upgrade of one of those libraries, these are the files to revisit
(docs/design.md §8). Libraries are imported inside the functions: importing a seam costs
nothing, and ``check`` never imports MLflow through one.
"""
