"""Tests of the project kit: operations and architecture."""
