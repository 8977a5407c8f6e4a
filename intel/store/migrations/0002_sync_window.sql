-- 0002: the sync window as a view.
-- A source with a window (`since`) records it in source_cursors under scope 'window' as
-- {"since": "YYYY-MM-DD"} (or {"since": null} for all mail), committed with its batches.
-- Moving a window forward deletes nothing: raw and parsed rows stay, and v_messages shows only
-- the messages that at least one of their locations puts inside its source's window (by the
-- server's INTERNALDATE where known, else the message date, from midnight UTC of that day).
-- Sources that record no window (local files, the demo) show all their messages.
CREATE VIEW v_messages AS
SELECT m.*
FROM messages m
WHERE EXISTS (
    SELECT 1
    FROM message_locations l
    LEFT JOIN source_cursors w ON w.source = l.source AND w.scope = 'window'
    WHERE l.sha256 = m.message_key
      AND (
          w.value IS NULL
          OR json_extract_string(w.value, '$.since') IS NULL
          OR coalesce(l.internal_date, m.sent_at)
             >= CAST(json_extract_string(w.value, '$.since') || ' 00:00:00+00' AS TIMESTAMPTZ)
      )
);
