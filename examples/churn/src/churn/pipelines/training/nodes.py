"""Training nodes.

``encode_plan`` and ``scale_features`` are reused as they are by the inference pipeline,
so a customer is transformed the same way when training and when predicting.
"""

from typing import Any

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder, StandardScaler

FEATURES = ["tenure_months", "monthly_charges", "support_calls", "plan"]
TARGET = "churned"


def split_features_target(customers: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Separate the model's inputs from the ``churned`` target."""
    return customers[FEATURES], customers[TARGET]


def fit_encoder(features: pd.DataFrame) -> OneHotEncoder:
    """Learn the ``plan`` categories; a plan never seen in training encodes as all zeros."""
    encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    return encoder.fit(features[["plan"]])


def encode_plan(features: pd.DataFrame, encoder: OneHotEncoder) -> pd.DataFrame:
    """Replace the ``plan`` column by one 0/1 column per known plan."""
    one_hot = pd.DataFrame(
        encoder.transform(features[["plan"]]),
        columns=encoder.get_feature_names_out(["plan"]),
        index=features.index,
    )
    return pd.concat([features.drop(columns="plan"), one_hot], axis=1)


def fit_scaler(encoded: pd.DataFrame) -> StandardScaler:
    """Learn each column's mean and standard deviation."""
    return StandardScaler().fit(encoded)


def scale_features(encoded: pd.DataFrame, scaler: StandardScaler) -> pd.DataFrame:
    """Standardise every column with the fitted scaler."""
    return pd.DataFrame(scaler.transform(encoded), columns=encoded.columns, index=encoded.index)


def train_model(
    features: pd.DataFrame, target: pd.Series, model_options: dict[str, Any]
) -> LogisticRegression:
    """Fit the churn classifier with the options from ``parameters.yml``."""
    return LogisticRegression(**model_options).fit(features, target)
