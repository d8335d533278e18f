"""churn_broken: the churn example with deliberate kedro-ml-lint violations (see README.md)."""

__version__ = "0.1.0"
