"""Inference nodes. The preprocessing is the training pipeline's own (see ``pipeline.py``)."""

import logging

import pandas as pd
from sklearn.linear_model import LogisticRegression

logger = logging.getLogger(__name__)


def compare_to_reference(
    instances: pd.DataFrame, reference_stats: dict[str, float]
) -> pd.DataFrame:
    """Warn about features whose mean drifted from ``reference_stats``; pass data through."""
    for column, reference_mean in reference_stats.items():
        mean = instances[column].mean()
        if abs(mean - reference_mean) > 0.5 * abs(reference_mean):
            logger.warning("`%s` drifted: mean %.2f, reference %.2f", column, mean, reference_mean)
    return instances


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
