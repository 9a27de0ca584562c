-- Rollback: Subscriptions go with their user or feed

CREATE TABLE subscriptions_old (
  user_id INTEGER NOT NULL REFERENCES users(id),
  feed_id INTEGER NOT NULL REFERENCES feeds(id),
  folder_id INTEGER REFERENCES folders(id),
  PRIMARY KEY (user_id, feed_id)
);

INSERT INTO subscriptions_old (user_id, feed_id, folder_id)
SELECT user_id, feed_id, folder_id FROM subscriptions;

DROP TABLE subscriptions;

ALTER TABLE subscriptions_old RENAME TO subscriptions;
