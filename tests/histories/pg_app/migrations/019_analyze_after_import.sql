-- Migration: Analyze after the bulk import (no-op)
-- Date: 2023-11-20
-- Description: Deliberately empty; see the comment below.
-- Risk Level: LOW (no-op)

/* On PostgreSQL 11 installs this migration ran ANALYZE after the bulk import of 2023-11.
   /* Nested comment: autovacuum's analyze does this now (see the operations handbook). */
   Nothing runs here. Not even this: DROP TABLE tasks; -- it is inside the comment.
*/
