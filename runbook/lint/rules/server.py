"""The server (PostgreSQL): statements whose change belongs to the whole server (the cluster), not
to the database the migration runs in; the rehearsal and lint's replay run them there too."""

from ..registry import rule

CLUSTER_WIDE = rule("cluster-wide", "warning",
                    "PostgreSQL only: a statement changes the whole server, not only the database (`CREATE`/`ALTER`/"
                    "`DROP ROLE`, `GRANT`/`REVOKE` role membership, `CREATE`/`ALTER`/`DROP DATABASE` or `TABLESPACE`, "
                    "`ALTER SYSTEM`): on the target it runs as written. The scratch runs (the rehearsal, lint's and "
                    "verify's replays, the rollback check), on databases of the same server, do not run it on the real "
                    "server: skipped with a note, run on the scratch database where it names the target's database "
                    "and that is exact, or (`CREATE TABLESPACE`) refused before anything runs; a role they create is "
                    "dropped after them; a change made through `EXECUTE` or a function fails them, rolled back",
                    "keep server-wide changes out of migrations (an administrator's script), or make them safe to run "
                    "twice and on a server the rehearsal already ran them on",
                    family=__name__)
