"""Batch scoring on Spark: ``mlflow.pyfunc.spark_udf`` runs a KedroPipelineModel in executors.

One local Spark session (``local[2]``) and one logged model for the module. The executors
are Python workers Spark starts on its own: nothing of the project is on their path, so
this also proves the model carries the code it needs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow_support import instances, kedro_predictions, lint, tracking_uri, trained

from kedro_ml_lint.publishing import log_models

pytestmark = pytest.mark.integration  # real training, a real MLflow store or server

ROWS = 100_000
RESULT_TYPE = "churn_probability double, churn long"


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ.pop("PYTHONPATH", None)  # bootstrap_project exports the project's src here
    # Spark's Python workers run `python3` from PATH unless told: this interpreter instead.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("kedro-ml-lint-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "10000")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture(scope="module")
def churn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return trained("churn", tmp_path_factory.mktemp("shared"))


def test_spark_udf_scores_100k_rows_like_kedro(
    spark, churn: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from pyspark.sql import functions as F

    uri = tracking_uri(tmp_path_factory.mktemp("spark-store"))
    [published] = log_models(lint(churn), tracking_uri=uri)
    mlflow.set_tracking_uri(uri)

    features = instances(churn)
    expected = kedro_predictions(churn)
    repeats = -(-ROWS // len(features))
    frame = pd.concat([features] * repeats, ignore_index=True).head(ROWS)
    frame.insert(0, "row_id", range(len(frame)))
    df = spark.createDataFrame(frame).repartition(2)

    score = mlflow.pyfunc.spark_udf(
        spark, published.model_uri, result_type=RESULT_TYPE, env_manager="local"
    )
    scored = (
        df.withColumn("prediction", score(F.struct(*features.columns)))
        .select("row_id", "prediction.churn_probability", "prediction.churn")
        .cache()
    )  # scored once, read by both checks

    # Every row is scored: the total of the labels is Kedro's, row for row.
    totals = scored.agg(F.count("*").alias("rows"), F.sum("churn").alias("churned")).first()
    source = frame["row_id"] % len(features)
    assert totals["rows"] == ROWS
    assert totals["churned"] == int(expected["churn"].to_numpy()[source].sum())

    # A sample, compared value for value with `kedro run --pipelines inference`.
    sample = scored.where(F.col("row_id") % 997 == 0).toPandas().sort_values("row_id")
    wanted = expected.iloc[sample["row_id"] % len(features)].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        sample[["churn_probability", "churn"]].reset_index(drop=True),
        wanted[["churn_probability", "churn"]],
        check_dtype=False,
        rtol=1e-9,
    )


def test_spark_udf_without_result_type_follows_the_output_schema(
    spark, churn: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The one place our "auto" signature's output schema changes an answer (documented).

    kedro-mlflow's model has no output schema: ``spark_udf`` without ``result_type``
    returns MLflow's default, a double. Ours describes its output, so the same call returns
    a struct of every output column, typed; ``result_type="double"`` gives the old answer.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.types import DoubleType, LongType, StructField, StructType
    from test_signature_parity import log_like_kedro_mlflow

    uri = tracking_uri(tmp_path_factory.mktemp("spark-default-store"))
    [ours] = log_models(lint(churn), tracking_uri=uri)
    theirs = log_like_kedro_mlflow(churn, uri)
    mlflow.set_tracking_uri(uri)
    features = instances(churn).head(40)
    df = spark.createDataFrame(features)
    columns = F.struct(*features.columns)

    def scored(model_uri: str, **kwargs):
        udf = mlflow.pyfunc.spark_udf(spark, model_uri, env_manager="local", **kwargs)
        return df.withColumn("prediction", udf(columns)).select("prediction")

    assert scored(theirs).schema["prediction"].dataType == DoubleType()
    assert scored(ours.model_uri).schema["prediction"].dataType == StructType(
        [StructField("churn_probability", DoubleType()), StructField("churn", LongType())]
    )
    # Asked for a double, ours answers as kedro-mlflow's does by default.
    as_double = scored(ours.model_uri, result_type="double")
    assert as_double.toPandas()["prediction"].tolist() == (
        scored(theirs).toPandas()["prediction"].tolist()
    )
