"""The server (PostgreSQL): statements whose change belongs to the whole server (the cluster), not
to the database the migration runs in; the rehearsal and lint's replay run them there too."""

from ..registry import rule

CLUSTER_WIDE = rule("cluster-wide", "warning",
                    "PostgreSQL only: a statement changes the whole server, not only the database (`CREATE`/`ALTER`/"
                    "`DROP ROLE`, `GRANT`/`REVOKE` role membership, `CREATE`/`ALTER`/`DROP DATABASE` or `TABLESPACE`, "
                    "`ALTER SYSTEM`): the rehearsal and lint's replay, on scratch databases of the same server, run it "
                    "on the real server; only the roles a scratch run creates are dropped after it",
                    "keep server-wide changes out of migrations (an administrator's script), or make them safe to run "
                    "twice and on a server the rehearsal already ran them on",
                    family=__name__)
