"""Two pairs: ``training`` + ``inference``, and the older ``legacy`` pair."""
