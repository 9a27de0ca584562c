"""Splitting SQL scripts with the engine's own lexer: PostgreSQL's parser (pglast) and SQLite's
``sqlite3.complete_statement``. Each case here was split wrongly (or refused) by the previous
token-based reader."""

from __future__ import annotations

import pytest

from runbook.errors import BadInput
from runbook.sqltext import split


def shapes(sql: str, dialect: str) -> list[tuple[int, str]]:
    return [(s.line, s.sql) for s in split(sql, dialect, source="case.sql")]


def test_postgres_tagged_dollar_quote_with_semicolons_and_plain_dollars_inside():
    sql = ("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $fn$\n"
           "BEGIN\n"
           "  NEW.note := $$a;b$$ || ';';\n"
           "  RETURN NEW;\n"
           "END;\n"
           "$fn$;\n"
           "CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();\n")
    got = shapes(sql, "postgres")
    assert [line for line, _ in got] == [1, 7]
    assert got[0][1].startswith("CREATE FUNCTION touch()") and got[0][1].endswith("$fn$")
    assert got[1][1].startswith("CREATE TRIGGER t_touch")


def test_postgres_nested_block_comment_is_one_comment():
    sql = ("/* outer /* inner; */ still a comment; */\n"
           "CREATE TABLE a (x int);\n"
           "/* two\n  /* levels */\n; */ CREATE TABLE b (y int);\n")
    assert shapes(sql, "postgres") == [(2, "CREATE TABLE a (x int)"), (5, "CREATE TABLE b (y int)")]


def test_postgres_escape_string_with_quote_and_semicolon():
    sql = "INSERT INTO t (note) VALUES (E'it\\'s; fine');\nSELECT 1;\n"
    assert shapes(sql, "postgres") == [(1, "INSERT INTO t (note) VALUES (E'it\\'s; fine')"), (2, "SELECT 1")]


def test_postgres_plpgsql_do_block_and_function_line_numbers():
    sql = ("-- Migration: functions\n"
           "\n"
           "CREATE OR REPLACE FUNCTION total(a int, b int) RETURNS int AS $$\n"
           "DECLARE s int;\n"
           "BEGIN s := a + b; RETURN s; END;\n"
           "$$ LANGUAGE plpgsql;\n"
           "DO $body$ BEGIN PERFORM total(1, 2); END $body$;\n"
           "ALTER TABLE t ALTER COLUMN x TYPE bigint;\n")
    got = shapes(sql, "postgres")
    assert [line for line, _ in got] == [3, 7, 8]
    assert got[1][1] == "DO $body$ BEGIN PERFORM total(1, 2); END $body$"


def test_postgres_parse_error_names_file_line_and_parser_message():
    with pytest.raises(BadInput, match=r"^case\.sql:3: PostgreSQL cannot parse it: syntax error at or near \"TABL\""):
        split("SELECT 1;\n\nCREATE TABL t (x int);\n", "postgres", source="case.sql")


def test_postgres_transaction_control_and_row_data_from_the_parse_tree():
    statements = split("START TRANSACTION;\nSELECT count(*), sum(x), 1 FROM t;\nSELECT email FROM t;\n"
                       "SELECT max(x) FROM t;\nABORT;\nCOMMIT;\n", "postgres")
    assert [s.is_transaction_control for s in statements] == [True, False, False, False, True, True]
    assert [s.shows_row_data("postgres") for s in statements[1:4]] == [False, True, True]
    assert statements[4].is_rollback and not statements[5].is_rollback


def test_sqlite_trigger_body_with_quoted_begin_end_columns_and_case():
    sql = ('CREATE TABLE slots (id INTEGER PRIMARY KEY, "begin" TEXT, "end" TEXT);\n'
           "CREATE TRIGGER slots_touch AFTER UPDATE ON slots BEGIN\n"
           "  UPDATE slots SET \"end\" = CASE WHEN NEW.\"begin\" > 'x;y' THEN NEW.\"begin\" END WHERE id = NEW.id;\n"
           "  INSERT INTO audit VALUES ('END;');\n"
           "END;\n"
           "SELECT 1;\n")
    got = shapes(sql, "sqlite")
    assert [line for line, _ in got] == [1, 2, 6]
    assert got[1][1].startswith("CREATE TRIGGER slots_touch") and got[1][1].endswith("END")


def test_sqlite_unterminated_trigger_is_refused_with_its_line():
    with pytest.raises(BadInput, match=r"case\.sql:2: SQLite reads an unterminated statement"):
        split("SELECT 1;\nCREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1;\n", "sqlite", source="case.sql")


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
def test_comment_only_script_has_no_statements(dialect):
    assert split("-- Migration: nothing on this engine\n/* see 007 */\n\n", dialect) == []


def test_translating_a_statement_leaves_its_shared_parse_tree_as_read():
    """Parse trees are shared between readers (lint, data checks, plan); the translation to
    PostgreSQL changes its own copy (an identity key, NULL order), never the tree others read."""
    from runbook.engines import ENGINES
    from runbook.sqltext import Statement

    st = Statement("CREATE TABLE t (id INTEGER PRIMARY KEY, n TEXT);\n", 1, 1)
    before = st.parse("sqlite").sql(dialect="sqlite")
    translated = ENGINES["postgresql"].translate(st, "sqlite")
    assert "GENERATED" in translated[0].upper()
    assert st.parse("sqlite") is st.parse("sqlite")
    assert st.parse("sqlite").sql(dialect="sqlite") == before and "GENERATED" not in before.upper()


def test_a_statement_holding_a_password_is_never_logged(caplog):
    """sqlglot reads ``CREATE ROLE ... PASSWORD`` only as a command and warns by logging the
    whole statement: the runbook's readings of a statement (``sqltext.parse``, behind lint, the
    data check and the engines' questions) must not put the password in a log."""
    import logging

    from runbook.engines import ENGINES
    from runbook.sqltext import parse

    sql = "CREATE ROLE app_reader LOGIN PASSWORD 'hunter2-secret'"
    with caplog.at_level(logging.DEBUG):
        parse(sql, "postgres")
        ENGINES["postgresql"].runs_outside_transaction(sql)
    assert "hunter2" not in caplog.text
