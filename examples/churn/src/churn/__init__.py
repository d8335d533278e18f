"""churn: predict which customers are about to leave (kedro-ml-lint's clean example)."""

__version__ = "0.1.0"
