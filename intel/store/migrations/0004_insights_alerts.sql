-- 0004: sentiment / intent / emotion per message, alerts, and the report settings that the
-- report views read. Forward-only: never edit; add 0005_*.sql instead.

-- One row per message scored by the classifiers. `models` names the model versions (and the
-- custom intents) that produced the row: a message whose row carries another value is scored
-- again by `intel enrich` (re-enrichment after a model upgrade or a custom-intent change).
CREATE TABLE message_insights (
    message_key      VARCHAR PRIMARY KEY,
    sentiment        VARCHAR NOT NULL,            -- positive | negative | neutral
    sentiment_score  DOUBLE NOT NULL,             -- probability of `sentiment`
    sentiment_scores MAP(VARCHAR, DOUBLE) NOT NULL,
    intent           VARCHAR NOT NULL,            -- request | query | complaint | purchase_inquiry | other | a custom intent
    intent_score     DOUBLE NOT NULL,
    intent_scores    MAP(VARCHAR, DOUBLE) NOT NULL, -- built-in and custom intents
    custom_intents   VARCHAR[] NOT NULL,          -- custom intents that matched (probability >= 0.5)
    emotion          VARCHAR NOT NULL,            -- happy | enthusiastic | grateful | trust | confused | dissatisfied | frustrated | neutral
    emotion_score    DOUBLE NOT NULL,
    emotion_scores   MAP(VARCHAR, DOUBLE) NOT NULL,
    sentiment_model  VARCHAR NOT NULL,            -- e.g. sentiment.v1
    intent_model     VARCHAR NOT NULL,
    emotion_model    VARCHAR NOT NULL,
    models           VARCHAR NOT NULL,            -- the three model names + a hash of the custom intents
    text_chars       INTEGER NOT NULL,            -- characters of subject + new text that were scored
    load_id          BIGINT NOT NULL,
    scored_at        TIMESTAMPTZ NOT NULL
);

-- Alerts are raised once: `alert_key` identifies the situation (rule + subject + the message
-- that triggered it), so a later run that finds the same situation does not raise it again.
CREATE TABLE alerts (
    alert_key    VARCHAR PRIMARY KEY,             -- sha256 of rule, subject and trigger message
    rule         VARCHAR NOT NULL,                -- negative_streak | domain_negative_streak | complaint_unanswered | request_unanswered
    severity     VARCHAR NOT NULL,                -- high | medium | low
    subject_type VARCHAR NOT NULL,                -- address | domain | message
    subject      VARCHAR NOT NULL,                -- the correspondent, domain or message concerned
    title        VARCHAR NOT NULL,                -- one line for people (text from mail kept verbatim; escape it when rendering)
    details      JSON NOT NULL,                   -- the numbers behind it (streak length, hours waited, ...)
    message_keys VARCHAR[] NOT NULL,              -- the messages that make up the situation, oldest first
    thread_id    VARCHAR,
    first_at     TIMESTAMPTZ NOT NULL,            -- the first message of the situation
    trigger_at   TIMESTAMPTZ NOT NULL,            -- when the situation arose (the last message, or deadline passed)
    raised_at    TIMESTAMPTZ NOT NULL,            -- when `intel` wrote the alert
    load_id      BIGINT NOT NULL,
    status       VARCHAR NOT NULL DEFAULT 'open', -- open | resolved (a reply or a positive mail came later)
    resolved_at  TIMESTAMPTZ
);

-- What the report views read from config: one row, written by the report and enrich stages
-- (so a BI tool reading the snapshot sees the numbers with the settings they were made with).
CREATE TABLE report_settings (
    id            INTEGER PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    timezone      VARCHAR NOT NULL DEFAULT 'UTC', -- IANA zone for business hours, hour-of-day and weekday
    work_start    INTEGER NOT NULL DEFAULT 540,   -- minutes after local midnight (09:00)
    work_end      INTEGER NOT NULL DEFAULT 1020,  -- 17:00
    work_days     INTEGER[] NOT NULL DEFAULT [1, 2, 3, 4, 5], -- ISO weekdays, 1 = Monday
    updated_at    TIMESTAMPTZ
);
INSERT INTO report_settings (id) VALUES (1);
