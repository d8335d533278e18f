"""The parts of the ``--log`` transaction: the journal and its lock, the store found gone.

The whole transaction is proven by tests/publishing/test_faults.py and the fault enumeration;
these pin what each part promises on its own: a journal whose owner is alive is never
replayed and one whose owner died is; connection failures are recognised by the type of
what MLflow raised, not by its words; a roll-back sends no request after the first that
found the store unreachable.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow_support import free_port

from kedro_ml_lint.cache.seal import key_file
from kedro_ml_lint.files import CACHE_DIR_ENV, try_lock, user_cache_dir
from kedro_ml_lint.publishing.journal import Journal, abandoned, store_folder
from kedro_ml_lint.publishing.records import Records
from kedro_ml_lint.seams.mlflow_private import connection_failed

STORE = "sqlite:////nowhere/mlflow.db"


def _journal(transaction: str, runs: list[str]) -> Journal:
    return Journal(STORE, Records(transaction=transaction, runs=runs, experiment_id="7"))


# --------------------------------------------------------------------------- journal


def test_a_journal_whose_owner_holds_it_is_not_replayed() -> None:
    journal = _journal("live", ["r1"])
    journal.open()
    try:
        assert journal.path.is_file() and journal.lock_path.is_file()
        assert list(abandoned(STORE)) == []
    finally:
        journal.close()
    assert not journal.path.exists() and not journal.lock_path.exists()
    assert list(abandoned(STORE)) == []


def test_a_released_journal_is_replayed_with_its_records_then_forgotten() -> None:
    journal = _journal("failed", ["r1", "r2"])
    journal.open()
    journal.records.versions.append(("churn", "3"))
    journal.write()  # what a roll-back that could not reach the store leaves behind
    journal.release()
    found = list(abandoned(STORE))
    assert [(records.transaction, records.runs, records.versions) for records, _ in found] == [
        ("failed", ["r1", "r2"], [("churn", "3")])
    ]
    _, forget = next(iter(abandoned(STORE)))
    forget()
    assert list(store_folder(STORE).iterdir()) == []


def test_a_journal_being_replayed_is_held_until_the_replay_moves_on() -> None:
    journal = _journal("replaying", ["r1"])
    journal.open()
    journal.release()
    journals = abandoned(STORE)
    next(journals)
    assert try_lock(journal.lock_path) is None  # another attempt would skip it
    journals.close()  # what a signal during the replay does (transaction uses closing())
    held = try_lock(journal.lock_path)
    assert held is not None
    held.release()


def test_an_unreadable_journal_is_skipped_and_kept() -> None:
    folder = store_folder(STORE)
    folder.mkdir(parents=True)
    (folder / "broken.json").write_text("[1, 2")
    (folder / "list.json").write_text("[1, 2]")
    assert list(abandoned(STORE)) == []
    assert sorted(path.name for path in folder.glob("*.json")) == ["broken.json", "list.json"]


def test_the_earlier_single_pending_file_is_no_journal() -> None:
    # The format before journals (one pending-rollbacks/<store>.json): dropped before any
    # release, so nothing reads it.
    legacy = store_folder(STORE).parent / f"{store_folder(STORE).name}.json"
    legacy.parent.mkdir(parents=True)
    legacy.write_text('[{"runs": ["r1"], "versions": []}]')
    assert list(abandoned(STORE)) == []
    assert legacy.exists()


# --------------------------------------------------------------------------- user folder


def test_one_rule_places_the_key_and_the_journals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CACHE_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_cache_dir() == tmp_path / "xdg" / "kedro-ml-lint"
    assert key_file() == tmp_path / "xdg" / "kedro-ml-lint" / "key"
    assert store_folder(None).parent == tmp_path / "xdg" / "kedro-ml-lint" / "pending-rollbacks"
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "mine"))
    assert key_file() == tmp_path / "mine" / "key"
    assert store_folder(None).parent == tmp_path / "mine" / "pending-rollbacks"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.delenv(CACHE_DIR_ENV)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert key_file() == tmp_path / "home" / ".cache" / "kedro-ml-lint" / "key"


# --------------------------------------------------------------------------- connection


def test_connection_failures_are_told_by_type_not_by_words() -> None:
    assert connection_failed(ConnectionRefusedError(111, "x"))
    assert not connection_failed(ValueError("Connection refused; Max retries exceeded"))
    try:
        try:
            raise ConnectionResetError("peer")
        except OSError:
            raise RuntimeError("wrapped, as MLflow's REST client wraps it") from None
    except RuntimeError as wrapped:
        assert connection_failed(wrapped)  # the implicit context counts


@pytest.mark.integration
def test_an_unreachable_server_is_recognised_and_the_roll_back_stops_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from kedro_ml_lint.publishing.rollback import roll_back

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    client = MlflowClient(tracking_uri=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(MlflowException) as raised:
        client.get_experiment("0")
    assert connection_failed(raised.value)
    records = Records(
        transaction="t1",
        experiment_id="1",
        experiment_created=True,
        runs=["a", "b", "c"],
        versions=[("churn", "1"), ("churn", "2")],
        registered_models_created=["churn"],
    )
    problems = roll_back(mlflow, client, records)
    assert len(problems) == 1, problems  # the first request found it gone: no other was sent


@pytest.mark.integration
def test_an_unreadable_sqlite_store_is_recognised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    # A connection per request (MLflow's public pool setting), so the next one opens the path.
    monkeypatch.setenv("MLFLOW_SQLALCHEMYSTORE_POOLCLASS", "NullPool")
    store = tmp_path / "store"
    store.mkdir()
    client = MlflowClient(tracking_uri=f"sqlite:///{store / 'mlflow.db'}")
    experiment = client.create_experiment("x")
    with pytest.raises(MlflowException) as missing:
        client.get_run("no-such-run")
    assert not connection_failed(missing.value)  # the store answered
    shutil.rmtree(store)
    (store / "mlflow.db").mkdir(parents=True)  # the database path can no longer be opened
    with pytest.raises(MlflowException) as raised:
        client.get_experiment(experiment)
    assert connection_failed(raised.value)


# --------------------------------------------------------------------------- lock


@pytest.mark.integration
def test_the_lock_of_a_live_process_is_busy_and_free_once_it_is_killed(tmp_path: Path) -> None:
    lock = tmp_path / "owner.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pathlib import Path\n"
            "from kedro_ml_lint.files import hold_lock\n"
            f"held = hold_lock(Path({str(lock)!r}))\n"
            "print('held', flush=True)\n"
            "time.sleep(120)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        assert try_lock(lock) is None
    finally:
        holder.kill()
        holder.wait()
    held = try_lock(lock)
    assert held is not None
    held.release()


# --------------------------------------------------------------------------- aliases


def test_a_journal_keeps_the_aliases_to_put_back() -> None:
    records = Records(transaction="t", versions=[("churn", "2")], aliases=[("churn", "a", "1")])
    records.aliases.append(("churn", "b", None))
    again = Records.from_json(records.to_json())
    assert again == records and again.aliases == [("churn", "a", "1"), ("churn", "b", None)]


@pytest.mark.integration
@pytest.mark.parametrize(
    ("previous", "moved_by_another", "expected"),
    [
        ("1", False, "1"),  # put back on the previous holder
        (None, False, None),  # it was unset: deleted
        ("1", True, "3"),  # moved since by another process: left where it is
    ],
)
def test_the_roll_back_puts_an_alias_back_before_deleting_the_version(
    tmp_path: Path, previous: str | None, moved_by_another: bool, expected: str | None
) -> None:
    """As the replay of a journal after a crash does: only the records, a fresh client."""
    import mlflow
    from mlflow_support import tracking_uri

    from kedro_ml_lint.publishing.rollback import roll_back

    uri = tracking_uri(tmp_path / "store")
    client = mlflow.MlflowClient(uri, registry_uri=uri)
    client.create_registered_model("churn")
    for _ in range(3):
        client.create_model_version("churn", source=str(tmp_path / "model"))
    if previous is not None:
        client.set_registered_model_alias("churn", "champion", previous)
    client.set_registered_model_alias("churn", "champion", "2")  # the crashed transaction's
    if moved_by_another:
        client.set_registered_model_alias("churn", "champion", "3")
    records = Records(versions=[("churn", "2")], aliases=[("churn", "champion", previous)])
    assert roll_back(mlflow, client, records) == []
    holder = client.get_registered_model("churn").aliases.get("champion")
    assert (str(holder) if holder is not None else None) == expected
    assert sorted(str(v.version) for v in client.search_model_versions("name='churn'")) == [
        "1",
        "3",
    ]
    assert roll_back(mlflow, client, records) == []  # replayed: nothing more to do
    again = client.get_registered_model("churn").aliases.get("champion")
    assert (str(again) if again is not None else None) == expected
