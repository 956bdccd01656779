"""Grading stage: run a submission's code apart from everything else and bring back data only.

- :mod:`.sandbox` puts a freshly forked process into a sandbox (namespaces, an unprivileged
  uid, no capabilities, a read-only root built from an allowlist, resource limits);
- :mod:`.forkserver` keeps torch, IPython and a locked copy of evalib imported in a warm
  process that forks one sandboxed kernel per submission and reports JSON-lines events;
- :mod:`.engine` runs one task per submission on Dask, locally or on a cluster.

Importing this package imports neither torch, IPython nor Dask.
"""
