"""Importing a project's code under control: stand-ins, deferral, capture and records."""
