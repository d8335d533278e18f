"""Nodes of the ``legacy`` pair (the scaler and the model come from the training nodes)."""

from typing import Any

import pandas as pd
from sklearn.linear_model import LogisticRegression

NUMERIC_FEATURES = ["tenure_months", "monthly_charges", "support_calls"]


def split_numeric_features(customers: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """The numeric features and the ``churned`` target."""
    return customers[NUMERIC_FEATURES], customers["churned"]


def select_numeric_features(instances: pd.DataFrame) -> pd.DataFrame:
    """The numeric features of the served instances."""
    return instances[NUMERIC_FEATURES]


def predict_and_summarise(
    features: pd.DataFrame, model: LogisticRegression, parameters: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Label each customer, and also return a one-row summary of the batch.

    Reads the whole ``parameters`` dict (KML007) and returns two outputs (KML004).
    """
    probability = model.predict_proba(features)[:, 1]
    predictions = pd.DataFrame(
        {
            "churn_probability": probability,
            "churn": (probability >= parameters["threshold"]).astype(int),
        },
        index=features.index,
    )
    summary = pd.DataFrame(
        {"n_customers": [len(predictions)], "churn_rate": [predictions["churn"].mean()]}
    )
    return predictions, summary
