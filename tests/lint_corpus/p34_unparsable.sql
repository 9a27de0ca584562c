-- Case: a statement PostgreSQL's parser in sqlglot cannot read: Category 3 and reported
-- Dialect: postgresql
-- Risk Level: HIGH
-- Rollback: yes
-- Expect Category: 3
-- Expect Destructive: no
-- Expect Findings: unparsable

CLUSTERIZE contractors USING idx WITH FEELING;
