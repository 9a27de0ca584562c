"""schema-runbook: evolve a production database schema safely.

Each guide step (inventory, backup, migrate, verify, rollback) is a module of plain functions;
the notebooks in ``notebooks/`` and the ``runbook`` CLI are thin layers over them.
"""

__version__ = "0.1.0"
