"""Case 10 of issue 8: objects the runbook must handle (PostgreSQL partitioned tables, json
columns in tables without a primary key)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook import backup, inventory, rollback
from runbook.target import open_target

from conftest import MIGRATIONS, db_state


@pytest.mark.postgres
def test_partitioned_table_and_keyless_json_table_back_up_inventory_and_restore(pg_url, tmp_path):
    target = open_target(pg_url)
    with target.engine().begin() as conn:
        conn.exec_driver_sql("CREATE TABLE events (at int, doc json, tags json[])")  # no primary key
        conn.exec_driver_sql("""INSERT INTO events VALUES (2, '[1,2]', NULL), (1, '{"a": 1}', ARRAY['{}'::json])""")
        conn.exec_driver_sql("CREATE TABLE measures (city text, at date, v int) PARTITION BY RANGE (at)")
        conn.exec_driver_sql("CREATE TABLE measures_2024 PARTITION OF measures "
                             "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')")
        conn.exec_driver_sql("INSERT INTO measures VALUES ('x', '2024-03-01', 1), ('y', '2024-04-01', 2)")
    target.dispose()
    snap = inventory.take(target, MIGRATIONS)  # json has no equality and no ordering: must not crash
    assert snap["tables"]["events"]["rows"] == 2
    record = backup.take(target, tmp_path / "backups")
    assert record["verified"], record["checks"]
    assert record["partitioned_tables"] == ["measures"]
    before = db_state(pg_url)
    result = rollback.restore_backup(target, Path(record["path"]), confirm=True)
    assert result["error"] is None and db_state(pg_url) == before
