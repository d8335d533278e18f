"""churn_mlflow_broken: a pair that kedro-mlflow's ``pipeline_ml_factory`` rejects (see README.md)."""

__version__ = "0.1.0"
