"""Inference nodes. The preprocessing is the training pipeline's own (see ``pipeline.py``)."""

import pandas as pd
from sklearn.linear_model import LogisticRegression


def predict(
    features: pd.DataFrame, model: LogisticRegression, threshold: float
) -> pd.DataFrame:
    """Churn probability per customer, and the 0/1 label it gives at ``threshold``."""
    probability = model.predict_proba(features)[:, 1]
    return pd.DataFrame(
        {
            "churn_probability": probability,
            "churn": (probability >= threshold).astype(int),
        },
        index=features.index,
    )
