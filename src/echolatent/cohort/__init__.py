"""Cohorts: the ``run`` job over many sequences on a Dask cluster, in shards, resumable (see docs/cohorts.md)."""
