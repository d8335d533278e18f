"""Regenerate the two raw CSV files of this example (deterministic: numpy is seeded).

Run from the project root:  python data/make_data.py

- ``data/01_raw/customers.csv``: 200 customers with features and the 0/1 ``churned`` target
  (the training data).
- ``data/01_raw/instances.csv``: 20 new customers, features only (the served input).
"""

from pathlib import Path

import numpy as np
import pandas as pd

RAW = Path(__file__).parent / "01_raw"
PLANS = ["basic", "standard", "premium"]


def make_customers(n_rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """Draw ``n_rows`` customers with plausible, correlated features."""
    plan = rng.choice(PLANS, size=n_rows, p=[0.5, 0.3, 0.2])
    base_charge = pd.Series(plan).map({"basic": 30.0, "standard": 60.0, "premium": 90.0})
    return pd.DataFrame(
        {
            "tenure_months": rng.integers(1, 73, size=n_rows),
            "monthly_charges": (base_charge + rng.normal(0.0, 8.0, size=n_rows)).round(2),
            "support_calls": rng.poisson(1.5, size=n_rows),
            "plan": plan,
        }
    )


def churn_target(customers: pd.DataFrame, rng: np.random.Generator) -> pd.Series:
    """Short tenure, high charges and many support calls make churn more likely."""
    logit = (
        -0.5
        - 0.06 * customers["tenure_months"]
        + 0.03 * (customers["monthly_charges"] - 50.0)
        + 0.6 * customers["support_calls"]
    )
    probability = 1.0 / (1.0 + np.exp(-logit))
    return pd.Series(rng.random(len(customers)) < probability, name="churned").astype(int)


def main() -> None:
    """Write both CSV files."""
    rng = np.random.default_rng(42)
    customers = make_customers(200, rng)
    customers["churned"] = churn_target(customers, rng)
    customers.to_csv(RAW / "customers.csv", index=False)

    instances = make_customers(20, np.random.default_rng(7))
    instances.to_csv(RAW / "instances.csv", index=False)


if __name__ == "__main__":
    main()
