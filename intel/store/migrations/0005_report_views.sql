-- 0005: the communication-metrics views of the report (issue 7) and the business-hours macros.
-- Forward-only: never edit this file once released; add 0006_*.sql instead (CREATE OR REPLACE).
-- Every definition below is written out in data/README.md ("Metric definitions").
--
-- The views read the one row of `report_settings` (0004) for the report time zone and the
-- working week. Local times use ICU's timezone(zone, instant), which turns a TIMESTAMPTZ into
-- the wall-clock TIMESTAMP of that zone.

-- ---------------------------------------------------------------------------------------------
-- Business hours, in closed form
-- ---------------------------------------------------------------------------------------------

-- How many of the ISO weekdays in `work_days` (1 = Monday .. 7 = Sunday) come before `isodow`
-- (duplicates and values outside 1..7 are ignored). work_days_before(days, 8) counts them all.
-- Written out instead of list_filter because a lambda cannot hold the subqueries that
-- business_hours() passes in.
CREATE MACRO work_days_before(work_days, isodow) AS (
    CAST(isodow > 1 AND list_contains(work_days, 1) AS BIGINT)
    + CAST(isodow > 2 AND list_contains(work_days, 2) AS BIGINT)
    + CAST(isodow > 3 AND list_contains(work_days, 3) AS BIGINT)
    + CAST(isodow > 4 AND list_contains(work_days, 4) AS BIGINT)
    + CAST(isodow > 5 AND list_contains(work_days, 5) AS BIGINT)
    + CAST(isodow > 6 AND list_contains(work_days, 6) AS BIGINT)
    + CAST(isodow > 7 AND list_contains(work_days, 7) AS BIGINT)
);

-- The business time, in microseconds, from Monday 1969-12-29 00:00 to a point given as its week
-- (whole weeks since that Monday), ISO weekday and time of day (microseconds after midnight):
-- whole weeks * work days per week * day length, plus the work days earlier in its week, plus
-- its day's part of [work_start, work_end) when its day is a work day. work_start and work_end
-- are minutes after midnight.
CREATE MACRO business_microseconds_at(week, isodow, time_of_day_us, work_start, work_end, work_days) AS (
    (week * work_days_before(work_days, 8) + work_days_before(work_days, isodow))
        * greatest(CAST(work_end AS BIGINT) - work_start, 0) * 60000000
    + CASE
        WHEN list_contains(work_days, CAST(isodow AS INTEGER))
        THEN least(
            greatest(time_of_day_us - CAST(work_start AS BIGINT) * 60000000, 0),
            greatest(CAST(work_end AS BIGINT) - work_start, 0) * 60000000)
        ELSE 0
    END
);

-- The same for a local wall-clock TIMESTAMP: the business clock. The business time between two
-- local times is the difference of their two values (closed form, no day generation; integer
-- arithmetic, so exact). Monday 1969-12-29 is 3 days (259200000000 us) before the Unix epoch.
CREATE MACRO business_microseconds(local_ts, work_start, work_end, work_days) AS (
    business_microseconds_at(
        (epoch_us(date_trunc('week', local_ts)) + 259200000000) // 604800000000,
        isodow(local_ts),
        epoch_us(local_ts) - epoch_us(date_trunc('day', local_ts)),
        work_start, work_end, work_days)
);

-- Business hours between two instants (TIMESTAMPTZ) for an explicit working week: the seconds of
-- local wall-clock time inside [work_start, work_end) on work_days, / 3600. Negative when
-- end_at precedes start_at; NULL when either is NULL.
CREATE MACRO business_hours_between(start_at, end_at, zone, work_start, work_end, work_days) AS (
    (business_microseconds(timezone(zone, CAST(end_at AS TIMESTAMPTZ)), work_start, work_end, work_days)
     - business_microseconds(timezone(zone, CAST(start_at AS TIMESTAMPTZ)), work_start, work_end, work_days))
    / 3600000000.0
);

-- Business hours between two instants with the working week of `report_settings`.
CREATE MACRO business_hours(start_at, end_at) AS (
    business_hours_between(
        start_at, end_at,
        (SELECT timezone FROM report_settings),
        (SELECT work_start FROM report_settings),
        (SELECT work_end FROM report_settings),
        (SELECT work_days FROM report_settings))
);

-- ---------------------------------------------------------------------------------------------
-- Base views
-- ---------------------------------------------------------------------------------------------

-- The conversation mail every metric uses: the sync window (v_messages) without duplicates,
-- drafts, spam and trash, with the report-zone time, the correspondent and the classifier labels.
CREATE VIEW v_mail AS
WITH first_outside_recipient AS (
    -- outbound mail: the first recipient that is not one of ours (To before Cc before Bcc)
    SELECT
        message_key,
        arg_min(
            {'address': address, 'domain': domain, 'name': name},
            (CASE role WHEN 'to' THEN 0 WHEN 'cc' THEN 1 ELSE 2 END) * 1000000 + position
        ) AS recipient
    FROM message_addresses
    WHERE role IN ('to', 'cc', 'bcc') AND NOT is_identity
    GROUP BY message_key
)
SELECT
    m.message_key,
    m.source,
    m.folder,
    m.folder_role,
    m.rfc_message_id,
    coalesce(m.thread_id, m.message_key) AS thread_id,
    m.parent_key,
    m.subject,
    m.normalized_subject,
    m.sent_at,
    m.sent_at_offset_minutes,
    m.date_source,
    m.from_address,
    m.from_name,
    m.from_domain,
    m.to_addresses,
    m.cc_addresses,
    m.direction,
    m.new_text,
    m.attachment_count,
    m.size_bytes,
    (
        coalesce(lower(trim(split_part(m.headers['auto-submitted'], ';', 1))) NOT IN ('', 'no'), false)
        OR coalesce(lower(trim(m.headers['precedence'])) IN ('bulk', 'list', 'junk'), false)
        OR coalesce(trim(m.headers['list-id']) <> '', false)
        OR coalesce(
            regexp_matches(
                split_part(m.from_address, '@', 1),
                '^(no[-_.]?reply|do[-_.]?not[-_.]?reply|mailer[-_.]?daemon|postmaster)([-_.+].*)?$'
            ),
            false
        )
    ) AS is_automated,
    timezone(s.timezone, m.sent_at) AS local_sent_at,
    business_microseconds(timezone(s.timezone, m.sent_at), s.work_start, s.work_end, s.work_days)
        AS business_clock_us,
    CASE WHEN m.direction = 'outbound' THEN r.recipient.address ELSE m.from_address END AS correspondent,
    CASE WHEN m.direction = 'outbound' THEN r.recipient.domain ELSE m.from_domain END AS correspondent_domain,
    nullif(CASE WHEN m.direction = 'outbound' THEN r.recipient.name ELSE m.from_name END, '') AS correspondent_name,
    i.sentiment,
    i.sentiment_score,
    i.intent,
    i.intent_score,
    i.emotion,
    i.emotion_score
FROM v_messages AS m
CROSS JOIN report_settings AS s
LEFT JOIN first_outside_recipient AS r ON r.message_key = m.message_key AND m.direction = 'outbound'
LEFT JOIN message_insights AS i ON i.message_key = m.message_key
WHERE m.duplicate_of IS NULL
  AND m.folder_role NOT IN ('drafts', 'spam', 'trash');

-- ---------------------------------------------------------------------------------------------
-- report_mail: v_mail with every message's turn and reply, materialized
-- ---------------------------------------------------------------------------------------------
-- Every metric view needs v_mail, and the response views also need each inbound message's turn
-- and reply (a window over the thread). Computed live, each of the ~20 views would repeat that
-- work (measured over 1,000,000 messages: about a second per view, far from the 5 s budget for
-- all of them), so it is computed once into the table `report_mail` and the metric views read
-- the table. `report_mail_build` is the definition; intel.reports.metrics.refresh_report_mail()
-- rebuilds the table when `report_inputs` (a fingerprint of everything it depends on) changed
-- since the last build, and `v_report_status` tells whether the table is current.
--
-- The conversation of a thread is its non-automated inbound and outbound mail, ordered by
-- (sent_at, outbound before inbound at the same instant, message_key). `turn` counts the
-- outbound messages up to a message; the inbound messages of a thread with the same turn form
-- a turn, and its reply is the next outbound message of the thread: the first outbound message
-- sent after them. One sort per thread serves the windows that find both.
CREATE VIEW report_mail_build AS
WITH mail AS MATERIALIZED (
    SELECT
        message_key, thread_id, sent_at, local_sent_at, business_clock_us, direction, is_automated,
        correspondent, correspondent_domain, correspondent_name, subject, sentiment, intent, emotion,
        list_concat([from_address], to_addresses, cc_addresses) AS addresses,
        NOT is_automated AND direction IN ('inbound', 'outbound') AS in_conversation
    FROM v_mail
),
-- The windows run over narrow rows (over the wide ones the build costs a third more CPU under
-- the default 256 MB memory limit); the result is joined back to the mail by message_key.
sequenced AS (
    SELECT
        message_key,
        thread_id,
        sent_at,
        direction = 'inbound' AS is_inbound,
        count(*) FILTER (WHERE direction = 'outbound') OVER running AS turn,
        coalesce(lag(direction) OVER running <> 'inbound', true) AS is_turn_start,
        coalesce(lead(direction) OVER running <> 'inbound', true) AS is_turn_end,
        first_value(
            CASE WHEN direction = 'outbound' THEN {'key': message_key, 'at': sent_at, 'clock': business_clock_us} END
            IGNORE NULLS
        ) OVER following AS reply
    FROM mail
    WHERE in_conversation
    WINDOW
        running AS (
            PARTITION BY thread_id ORDER BY sent_at, direction = 'inbound', message_key ROWS UNBOUNDED PRECEDING
        ),
        following AS (
            PARTITION BY thread_id ORDER BY sent_at, direction = 'inbound', message_key
            ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
        )
),
responses AS (
    SELECT
        message_key,
        turn,
        min(sent_at) OVER (PARTITION BY thread_id, turn) AS turn_start,  -- inbound rows only here
        is_turn_start,
        is_turn_end,
        reply.key AS reply_key,
        reply.at AS replied_at,
        reply.clock AS reply_business_clock_us
    FROM sequenced
    WHERE is_inbound
)
SELECT
    m.message_key, m.thread_id, m.sent_at, m.local_sent_at, m.business_clock_us, m.direction, m.is_automated,
    m.correspondent, m.correspondent_domain, m.correspondent_name, m.subject, m.sentiment, m.intent, m.emotion,
    m.addresses,
    -- turn and reply: set on inbound, non-automated messages only
    r.turn, r.turn_start, r.is_turn_start, r.is_turn_end, r.reply_key, r.replied_at, r.reply_business_clock_us
FROM mail AS m
LEFT JOIN responses AS r ON r.message_key = m.message_key;

CREATE TABLE report_mail AS SELECT * FROM report_mail_build;

-- Everything report_mail depends on, as one string: the messages (new rows, re-parsed rows), the
-- threading (every rebuild stamps `threads` with its load), message locations and sync windows,
-- the classifier scores and the report settings. Loads of other stages (alerts, reports,
-- extraction) do not change it, so they do not make report_mail out of date.
CREATE VIEW report_inputs AS
SELECT concat_ws(
    '|',
    (SELECT count(*) || ':' || coalesce(max(load_id), 0) FROM messages),
    (SELECT count(*) || ':' || coalesce(max(load_id), 0) FROM threads),
    (SELECT count(*) || ':' || count(deleted_at) || ':' || coalesce(max(load_id), 0) FROM message_locations),
    (SELECT coalesce(string_agg(source || '=' || CAST(value AS VARCHAR), ',' ORDER BY source), '')
     FROM source_cursors WHERE scope = 'window'),
    (SELECT count(*) || ':' || coalesce(max(load_id), 0) || ':' || coalesce(CAST(max(scored_at) AS VARCHAR), '')
     FROM message_insights),
    (SELECT coalesce(max(timezone || ' ' || work_start || '-' || work_end || ' ' || CAST(work_days AS VARCHAR)), '')
     FROM report_settings)
) AS inputs;

-- When report_mail was built, from which inputs, and how many rows it holds.
CREATE TABLE report_state (
    id           INTEGER PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    inputs       VARCHAR NOT NULL,
    rows         BIGINT NOT NULL,
    refreshed_at TIMESTAMPTZ NOT NULL
);
INSERT INTO report_state SELECT 1, inputs, (SELECT count(*) FROM report_mail), now() FROM report_inputs;

-- Whether the metric views show the current data (false: run `intel report`, or call
-- intel.reports.metrics.refresh_report_mail on a write connection).
CREATE VIEW v_report_status AS
SELECT s.refreshed_at, s.rows, s.inputs = i.inputs AS is_current
FROM report_state AS s
CROSS JOIN report_inputs AS i;

-- ---------------------------------------------------------------------------------------------
-- Turns and replies
-- ---------------------------------------------------------------------------------------------

-- One row per inbound, non-automated message: its turn, its reply and the response time.
CREATE VIEW v_message_responses AS
WITH clock AS (
    -- now() on the business clock, computed once per query
    SELECT now() AS now_at, business_microseconds(timezone(timezone, now()), work_start, work_end, work_days) AS now_us
    FROM report_settings
)
SELECT
    r.message_key,
    r.thread_id,
    r.turn,
    r.sent_at,
    r.correspondent,
    r.correspondent_domain,
    r.subject,
    r.intent,
    r.sentiment,
    r.emotion,
    r.turn_start,
    r.is_turn_start,
    r.is_turn_end,
    r.reply_key,
    r.replied_at,
    (epoch_us(r.replied_at) - epoch_us(r.sent_at)) / 3600000000.0 AS response_hours,
    (r.reply_business_clock_us - r.business_clock_us) / 3600000000.0 AS response_business_hours,
    r.reply_key IS NOT NULL AS answered,
    CASE WHEN r.reply_key IS NULL THEN (epoch_us(c.now_at) - epoch_us(r.sent_at)) / 3600000000.0 END AS waiting_hours,
    CASE WHEN r.reply_key IS NULL THEN (c.now_us - r.business_clock_us) / 3600000000.0 END AS waiting_business_hours
FROM report_mail AS r
CROSS JOIN clock AS c
WHERE r.turn IS NOT NULL;

-- One row per turn, answered or not: the building block of v_response_times and v_unanswered.
-- A turn belongs to the correspondent of its first inbound message; subject, intent, sentiment
-- and emotion are those of its last inbound message (`message_key`).
CREATE VIEW v_turns AS
SELECT
    thread_id,
    turn,
    any_value(message_key) FILTER (WHERE is_turn_start) AS first_key,
    any_value(correspondent) FILTER (WHERE is_turn_start) AS correspondent,
    any_value(correspondent_domain) FILTER (WHERE is_turn_start) AS correspondent_domain,
    min(sent_at) AS awaiting_since,
    any_value(message_key) FILTER (WHERE is_turn_end) AS message_key,
    max(sent_at) AS last_inbound_at,
    any_value(subject) FILTER (WHERE is_turn_end) AS subject,
    any_value(intent) FILTER (WHERE is_turn_end) AS intent,
    any_value(sentiment) FILTER (WHERE is_turn_end) AS sentiment,
    any_value(emotion) FILTER (WHERE is_turn_end) AS emotion,
    count(*) AS inbound_in_turn,
    answered,
    any_value(reply_key) AS reply_key,
    any_value(replied_at) AS replied_at,
    any_value(response_hours) FILTER (WHERE is_turn_start) AS response_hours,
    any_value(response_business_hours) FILTER (WHERE is_turn_start) AS response_business_hours,
    any_value(waiting_hours) FILTER (WHERE is_turn_start) AS waiting_hours,
    any_value(waiting_business_hours) FILTER (WHERE is_turn_start) AS waiting_business_hours
FROM v_message_responses
-- `answered` is the same for every message of a turn; as a group key, a filter on it (as in
-- v_response_times and v_unanswered) is applied before the grouping.
GROUP BY thread_id, turn, answered;

-- ---------------------------------------------------------------------------------------------
-- Response metrics
-- ---------------------------------------------------------------------------------------------

-- One row per answered turn: from its first inbound message to the reply.
CREATE VIEW v_response_times AS
SELECT
    thread_id, correspondent, correspondent_domain, awaiting_since, replied_at, reply_key, response_hours,
    response_business_hours, inbound_in_turn, first_key AS message_key, turn
FROM v_turns
WHERE answered
ORDER BY awaiting_since, thread_id;

-- One row per thread with inbound mail: its first inbound message and the first reply to it.
CREATE VIEW v_first_response AS
SELECT
    thread_id,
    arg_min(subject, turn) AS subject,
    arg_min(correspondent, turn) AS correspondent,
    min(sent_at) AS first_inbound_at,
    arg_min(replied_at, turn) AS first_reply_at,
    arg_min(response_hours, turn) AS first_response_hours,
    arg_min(response_business_hours, turn) AS first_response_business_hours
FROM v_message_responses
WHERE is_turn_start
GROUP BY thread_id
ORDER BY first_inbound_at, thread_id;

-- Turns and response times per correspondent (a turn counts for the sender of its first message).
CREATE VIEW v_response_by_correspondent AS
SELECT
    correspondent,
    max(correspondent_domain) AS correspondent_domain,
    count(*) FILTER (WHERE is_turn_start) AS turns,
    count(*) FILTER (WHERE is_turn_start AND answered) AS answered_turns,
    count(*) FILTER (WHERE is_turn_start AND answered) / nullif(count(*) FILTER (WHERE is_turn_start), 0)
        AS response_rate,
    quantile_cont(response_hours, 0.5) FILTER (WHERE is_turn_start) AS median_response_hours,
    quantile_cont(response_hours, 0.9) FILTER (WHERE is_turn_start) AS p90_response_hours,
    quantile_cont(response_business_hours, 0.5) FILTER (WHERE is_turn_start) AS median_response_business_hours,
    quantile_cont(response_business_hours, 0.9) FILTER (WHERE is_turn_start) AS p90_response_business_hours,
    max(sent_at) AS last_inbound_at
FROM v_message_responses
WHERE correspondent IS NOT NULL
GROUP BY correspondent
ORDER BY turns DESC, correspondent;

-- One row over all turns (also on an empty database).
CREATE VIEW v_response_summary AS
WITH agg AS (
    SELECT
        count(*) AS turns,
        count(*) FILTER (WHERE answered) AS answered_turns,
        quantile_cont(response_hours, [0.25, 0.5, 0.75, 0.9]) AS q,
        quantile_cont(response_business_hours, [0.25, 0.5, 0.75, 0.9]) AS qb
    FROM v_message_responses
    WHERE is_turn_start
)
SELECT
    turns,
    answered_turns,
    answered_turns / nullif(turns, 0) AS response_rate,
    q[1] AS p25_response_hours,
    q[2] AS median_response_hours,
    q[3] AS p75_response_hours,
    q[4] AS p90_response_hours,
    qb[1] AS p25_response_business_hours,
    qb[2] AS median_response_business_hours,
    qb[3] AS p75_response_business_hours,
    qb[4] AS p90_response_business_hours,
    turns - answered_turns AS unanswered
FROM agg;

-- Turns still awaiting a reply, longest waiting first.
CREATE VIEW v_unanswered AS
SELECT
    message_key, thread_id, correspondent, correspondent_domain, subject, awaiting_since, last_inbound_at,
    inbound_in_turn, waiting_hours, waiting_business_hours, intent, sentiment, emotion, first_key, turn
FROM v_turns
WHERE NOT answered
ORDER BY awaiting_since, thread_id;

-- ---------------------------------------------------------------------------------------------
-- Volume (all of v_mail: automated and internal mail included)
-- ---------------------------------------------------------------------------------------------

-- Messages per local day and direction, every day from the first to the last (zeros included)
-- for every direction that occurs.
CREATE VIEW v_volume_daily AS
WITH counts AS (
    SELECT
        CAST(local_sent_at AS DATE) AS day,
        direction,
        count(*) AS messages,
        count(*) FILTER (WHERE is_automated) AS automated
    FROM report_mail
    GROUP BY ALL
),
days AS (
    SELECT CAST(unnest(generate_series(min(day), max(day), INTERVAL 1 DAY)) AS DATE) AS day FROM counts
),
directions AS (SELECT DISTINCT direction FROM counts)
SELECT d.day, r.direction, coalesce(c.messages, 0) AS messages, coalesce(c.automated, 0) AS automated
FROM days AS d
CROSS JOIN directions AS r
LEFT JOIN counts AS c ON c.day = d.day AND c.direction = r.direction
ORDER BY d.day, r.direction;

-- Messages per local ISO week (its Monday) and direction, zeros included as above.
CREATE VIEW v_volume_weekly AS
WITH counts AS (
    SELECT
        CAST(date_trunc('week', local_sent_at) AS DATE) AS week,
        direction,
        count(*) AS messages,
        count(*) FILTER (WHERE is_automated) AS automated
    FROM report_mail
    GROUP BY ALL
),
weeks AS (
    SELECT CAST(unnest(generate_series(min(week), max(week), INTERVAL 7 DAY)) AS DATE) AS week FROM counts
),
directions AS (SELECT DISTINCT direction FROM counts)
SELECT w.week, r.direction, coalesce(c.messages, 0) AS messages, coalesce(c.automated, 0) AS automated
FROM weeks AS w
CROSS JOIN directions AS r
LEFT JOIN counts AS c ON c.week = w.week AND c.direction = r.direction
ORDER BY w.week, r.direction;

-- All 168 (local ISO weekday, local hour) cells, zeros included.
CREATE VIEW v_busiest_hours AS
WITH counts AS (
    SELECT
        isodow(local_sent_at) AS weekday,
        hour(local_sent_at) AS hour,
        count(*) FILTER (WHERE direction = 'inbound') AS inbound,
        count(*) FILTER (WHERE direction = 'outbound') AS outbound,
        count(*) AS total
    FROM report_mail
    GROUP BY ALL
),
cells AS (
    SELECT d.weekday, h.hour FROM range(1, 8) AS d(weekday) CROSS JOIN range(0, 24) AS h(hour)
)
SELECT
    cells.weekday,
    ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'][cells.weekday] AS weekday_name,
    cells.hour,
    coalesce(c.inbound, 0) AS inbound,
    coalesce(c.outbound, 0) AS outbound,
    coalesce(c.total, 0) AS total
FROM cells
LEFT JOIN counts AS c ON c.weekday = cells.weekday AND c.hour = cells.hour
ORDER BY cells.weekday, cells.hour;

-- ---------------------------------------------------------------------------------------------
-- Correspondents and domains (non-automated inbound and outbound mail)
-- ---------------------------------------------------------------------------------------------

CREATE VIEW v_top_correspondents AS
WITH per AS (
    SELECT
        correspondent,
        max(correspondent_domain) AS domain,
        arg_max(correspondent_name, sent_at) FILTER (WHERE correspondent_name IS NOT NULL)
            AS header_name,
        count(*) FILTER (WHERE direction = 'inbound') AS inbound,
        count(*) FILTER (WHERE direction = 'outbound') AS outbound,
        count(DISTINCT thread_id) AS threads,
        min(sent_at) AS first_at,
        max(sent_at) AS last_at,
        count(*) FILTER (WHERE direction = 'inbound' AND sentiment = 'negative')
            / nullif(count(sentiment) FILTER (WHERE direction = 'inbound'), 0) AS negative_share,
        quantile_cont((epoch_us(replied_at) - epoch_us(sent_at)) / 3600000000.0, 0.5) FILTER (WHERE is_turn_start)
            AS median_response_hours
    FROM report_mail
    WHERE NOT is_automated AND direction IN ('inbound', 'outbound') AND correspondent IS NOT NULL
    GROUP BY correspondent
)
SELECT
    p.correspondent,
    coalesce(nullif(c.name, ''), p.header_name) AS name,
    p.domain,
    p.inbound,
    p.outbound,
    p.threads,
    p.first_at,
    p.last_at,
    p.negative_share,
    p.median_response_hours
FROM per AS p
LEFT JOIN contacts AS c ON c.address = p.correspondent
ORDER BY p.inbound + p.outbound DESC, p.correspondent;

CREATE VIEW v_top_domains AS
SELECT
    correspondent_domain AS domain,
    count(DISTINCT correspondent) AS correspondents,
    count(*) FILTER (WHERE direction = 'inbound') AS inbound,
    count(*) FILTER (WHERE direction = 'outbound') AS outbound,
    count(DISTINCT thread_id) AS threads
FROM report_mail
WHERE NOT is_automated AND direction IN ('inbound', 'outbound') AND correspondent_domain IS NOT NULL
GROUP BY correspondent_domain
ORDER BY inbound + outbound DESC, domain;

-- ---------------------------------------------------------------------------------------------
-- Threads (all of v_mail)
-- ---------------------------------------------------------------------------------------------

CREATE VIEW v_thread_lengths AS
WITH per AS (
    SELECT
        thread_id,
        arg_min(subject, sent_at) AS subject,
        count(*) AS messages,
        count(*) FILTER (WHERE direction = 'inbound') AS inbound,
        count(*) FILTER (WHERE direction = 'outbound') AS outbound,
        min(sent_at) AS first_at,
        max(sent_at) AS last_at
    FROM report_mail
    GROUP BY thread_id
),
people AS (
    SELECT thread_id, count(DISTINCT address) AS participants
    FROM (SELECT thread_id, unnest(addresses) AS address FROM report_mail)
    WHERE address IS NOT NULL
    GROUP BY thread_id
)
SELECT
    per.thread_id,
    per.subject,
    per.messages,
    per.inbound,
    per.outbound,
    coalesce(people.participants, 0) AS participants,
    per.first_at,
    per.last_at,
    (epoch_us(per.last_at) - epoch_us(per.first_at)) / 3600000000.0 AS duration_hours
FROM per
LEFT JOIN people ON people.thread_id = per.thread_id
ORDER BY per.messages DESC, per.first_at, per.thread_id;

CREATE VIEW v_thread_length_distribution AS
SELECT messages, count(*) AS threads
FROM (SELECT thread_id, count(*) AS messages FROM report_mail GROUP BY thread_id)
GROUP BY messages
ORDER BY messages;

-- ---------------------------------------------------------------------------------------------
-- Sentiment, intent and emotion (inbound, non-automated, scored mail only)
-- ---------------------------------------------------------------------------------------------

CREATE VIEW v_sentiment_weekly AS
SELECT week, label, messages, messages / sum(messages) OVER (PARTITION BY week) AS share
FROM (
    SELECT CAST(date_trunc('week', local_sent_at) AS DATE) AS week, sentiment AS label, count(*) AS messages
    FROM report_mail
    WHERE direction = 'inbound' AND NOT is_automated AND sentiment IS NOT NULL
    GROUP BY ALL
)
ORDER BY week, label;

CREATE VIEW v_intent_weekly AS
SELECT week, label, messages, messages / sum(messages) OVER (PARTITION BY week) AS share
FROM (
    SELECT CAST(date_trunc('week', local_sent_at) AS DATE) AS week, intent AS label, count(*) AS messages
    FROM report_mail
    WHERE direction = 'inbound' AND NOT is_automated AND intent IS NOT NULL
    GROUP BY ALL
)
ORDER BY week, label;

CREATE VIEW v_emotion_weekly AS
SELECT week, label, messages, messages / sum(messages) OVER (PARTITION BY week) AS share
FROM (
    SELECT CAST(date_trunc('week', local_sent_at) AS DATE) AS week, emotion AS label, count(*) AS messages
    FROM report_mail
    WHERE direction = 'inbound' AND NOT is_automated AND emotion IS NOT NULL
    GROUP BY ALL
)
ORDER BY week, label;

CREATE VIEW v_sentiment_by_customer AS
SELECT
    correspondent,
    max(correspondent_domain) AS correspondent_domain,
    CAST(date_trunc('week', local_sent_at) AS DATE) AS week,
    count(*) FILTER (WHERE sentiment = 'positive') AS positive,
    count(*) FILTER (WHERE sentiment = 'negative') AS negative,
    count(*) FILTER (WHERE sentiment = 'neutral') AS neutral,
    count(*) AS messages,
    (count(*) FILTER (WHERE sentiment = 'positive') - count(*) FILTER (WHERE sentiment = 'negative'))
        / count(*) AS net_sentiment
FROM report_mail
WHERE direction = 'inbound' AND NOT is_automated AND sentiment IS NOT NULL AND correspondent IS NOT NULL
GROUP BY correspondent, week
ORDER BY correspondent, week;

-- One row per correspondent who sent us non-automated mail.
CREATE VIEW v_customer_health AS
WITH inbound AS (
    SELECT
        correspondent,
        max(correspondent_domain) AS correspondent_domain,
        count(*) AS messages_in,
        count(*) FILTER (WHERE sentiment = 'negative') / nullif(count(sentiment), 0) AS negative_share,
        arg_max(sentiment, sent_at) FILTER (WHERE sentiment IS NOT NULL) AS last_sentiment,
        arg_max(emotion, sent_at) FILTER (WHERE emotion IS NOT NULL) AS last_emotion,
        count(*) FILTER (WHERE intent = 'complaint') AS complaints,
        count(*) FILTER (WHERE is_turn_start AND reply_key IS NULL) AS unanswered,
        quantile_cont((epoch_us(replied_at) - epoch_us(sent_at)) / 3600000000.0, 0.5) FILTER (WHERE is_turn_start)
            AS median_response_hours,
        max(sent_at) AS last_inbound_at
    FROM report_mail
    WHERE turn IS NOT NULL AND correspondent IS NOT NULL
    GROUP BY correspondent
),
open_alerts AS (
    -- what each open alert is about: an address, a domain, or a message (then its sender)
    SELECT
        a.alert_key,
        a.subject_type,
        CASE WHEN a.subject_type = 'message' THEN m.from_address ELSE a.subject END AS target
    FROM alerts AS a
    LEFT JOIN messages AS m ON a.subject_type = 'message' AND m.message_key = a.subject
    WHERE a.status = 'open'
),
by_address AS (
    SELECT target AS correspondent, count(DISTINCT alert_key) AS alerts
    FROM open_alerts
    WHERE subject_type IN ('address', 'message')
    GROUP BY target
),
by_domain AS (
    SELECT target AS domain, count(DISTINCT alert_key) AS alerts
    FROM open_alerts
    WHERE subject_type = 'domain'
    GROUP BY target
)
SELECT
    i.correspondent,
    i.correspondent_domain,
    i.messages_in,
    i.negative_share,
    i.last_sentiment,
    i.last_emotion,
    i.complaints,
    coalesce(a.alerts, 0) + coalesce(d.alerts, 0) AS open_alerts,
    i.unanswered,
    i.median_response_hours,
    i.last_inbound_at
FROM inbound AS i
LEFT JOIN by_address AS a ON a.correspondent = i.correspondent
LEFT JOIN by_domain AS d ON d.domain = i.correspondent_domain
ORDER BY i.messages_in DESC, i.correspondent;

-- ---------------------------------------------------------------------------------------------
-- Activities and alerts
-- ---------------------------------------------------------------------------------------------

-- Activities found per local ISO week of the message that mentions them (messages of v_mail).
CREATE VIEW v_activities_weekly AS
SELECT CAST(date_trunc('week', m.local_sent_at) AS DATE) AS week, a.type, count(*) AS activities
FROM activities AS a
JOIN report_mail AS m ON m.message_key = a.message_key
GROUP BY ALL
ORDER BY week, a.type;

CREATE VIEW v_alerts_open AS
SELECT *
FROM alerts
WHERE status = 'open'
ORDER BY trigger_at DESC, raised_at DESC, alert_key;
