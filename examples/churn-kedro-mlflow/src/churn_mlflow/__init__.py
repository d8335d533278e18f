"""churn_mlflow: the clean churn example, bound with kedro-mlflow's ``pipeline_ml_factory``."""

__version__ = "0.1.0"
