"""The project's two pipelines: ``training`` fits the artifacts, ``inference`` uses them."""
