-- Rollback: Folders
-- Description: SQLite cannot drop a column that is part of a foreign key: subscriptions is
--              rebuilt without folder_id.

CREATE TABLE subscriptions_old (
  user_id INTEGER NOT NULL REFERENCES users(id),
  feed_id INTEGER NOT NULL REFERENCES feeds(id),
  PRIMARY KEY (user_id, feed_id)
);

INSERT INTO subscriptions_old (user_id, feed_id) SELECT user_id, feed_id FROM subscriptions;

DROP TABLE subscriptions;

ALTER TABLE subscriptions_old RENAME TO subscriptions;

DROP TABLE folders;
