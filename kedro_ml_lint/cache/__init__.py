"""The snapshot cache: a leaf that knows nothing of Kedro nor of the loader.

docs/design.md §13. ``recording`` records what a load read (and what it did that no record
can hold); ``seal`` holds the user's key; ``store`` keys, seals, stores and validates
entries; ``facts`` stores sealed facts about the user's environment (a library's import
succeeded) with the recording of what they read. The caller hands it what to key on, the
payload as JSON data and the recording.
Standard library only: a warm run imports this before anything else.
"""
