-- Migration: Subscriptions go with their user or feed
-- Date: 2023-03-05
-- Description: ON DELETE CASCADE (and SET NULL for the folder) by table rebuild, and an
--              index for "who subscribes to this feed".
-- Risk Level: MEDIUM (table rebuild: changed foreign keys)

CREATE TABLE subscriptions_new (
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
  folder_id INTEGER REFERENCES folders(id) ON DELETE SET NULL,
  PRIMARY KEY (user_id, feed_id)
);

INSERT INTO subscriptions_new (user_id, feed_id, folder_id)
SELECT user_id, feed_id, folder_id FROM subscriptions;

DROP TABLE subscriptions;

ALTER TABLE subscriptions_new RENAME TO subscriptions;

CREATE INDEX subscriptions_feed ON subscriptions(feed_id);
