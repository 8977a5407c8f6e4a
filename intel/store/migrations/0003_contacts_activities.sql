-- 0003: contacts read from signatures, activities (meetings, calls, tasks), and which messages
-- each extractor version has processed. Forward-only: never edit; add 0004_*.sql instead.

-- One row per (message, extractor): the version that processed it and what it found. A message
-- whose row carries an older version is processed again on the next run (re-enrichment).
CREATE TABLE extractions (
    message_key  VARCHAR NOT NULL,
    extractor    VARCHAR NOT NULL,    -- signature | activity
    version      VARCHAR NOT NULL,    -- e.g. signature.v1+contacts.v1
    found        INTEGER NOT NULL,    -- signatures (0 or 1) or activities found
    load_id      BIGINT NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (message_key, extractor)
);

-- The history behind `contacts`: every field read from every signature, with its message.
CREATE TABLE contact_fields (
    address       VARCHAR NOT NULL,   -- the sender's address (lower case)
    field         VARCHAR NOT NULL,   -- name | title | company | postal_address | phone | email | website | social
    value         VARCHAR NOT NULL,   -- phones in E.164
    detail        VARCHAR,            -- phones: mobile | office | fax (NULL when the text does not say)
    confidence    DOUBLE NOT NULL,    -- 0-1
    message_key   VARCHAR NOT NULL,
    sent_at       TIMESTAMPTZ NOT NULL,
    model_version VARCHAR NOT NULL,
    load_id       BIGINT NOT NULL
);

-- One row per sender address, merged across its messages: for each field the value from the
-- newest message that has it (a full name beats a newer first-name-only sign-off).
CREATE TABLE contacts (
    address                 VARCHAR PRIMARY KEY,
    domain                  VARCHAR,
    is_identity             BOOLEAN,
    name                    VARCHAR,
    name_source             VARCHAR,          -- signature | header
    title                   VARCHAR,
    company                 VARCHAR,
    phones                  STRUCT(number VARCHAR, type VARCHAR)[],
    emails                  VARCHAR[],
    websites                VARCHAR[],
    postal_address          VARCHAR,
    social                  VARCHAR[],
    signature               VARCHAR,          -- the newest signature block
    signature_confidence    DOUBLE,
    messages                BIGINT NOT NULL,  -- messages from this address that were processed
    messages_with_signature BIGINT NOT NULL,
    first_seen_at           TIMESTAMPTZ,
    last_seen_at            TIMESTAMPTZ,
    last_signature_message  VARCHAR,          -- message_key of the newest signature
    model_version           VARCHAR,
    load_id                 BIGINT NOT NULL,
    updated_at              TIMESTAMPTZ NOT NULL
);

CREATE TABLE activities (
    activity_id   VARCHAR PRIMARY KEY,        -- message_key || ':' || position
    message_key   VARCHAR NOT NULL,
    position      INTEGER NOT NULL,           -- order in the message, from 0
    thread_id     VARCHAR,
    type          VARCHAR NOT NULL,           -- meeting | call | task
    status        VARCHAR NOT NULL,           -- proposed | confirmed | rescheduled | requested | committed
    text          VARCHAR NOT NULL,           -- the sentence, verbatim
    time_text     VARCHAR,                    -- the date/time phrase ("next Tuesday at 3pm")
    start_at      TIMESTAMPTZ,                -- meetings and calls, when the time is known
    end_at        TIMESTAMPTZ,
    start_date    DATE,                       -- the local calendar date, also when only the day is known
    due_at        TIMESTAMPTZ,                -- tasks with a time ("by 3pm today", "tomorrow EOD")
    due_date      DATE,
    start_text    VARCHAR,                    -- ISO 8601 as `intel predict activity` writes it
    end_text      VARCHAR,
    due_text      VARCHAR,
    participants  VARCHAR[],
    confidence    DOUBLE NOT NULL,
    sent_at       TIMESTAMPTZ NOT NULL,
    from_address  VARCHAR,
    model_version VARCHAR NOT NULL,
    load_id       BIGINT NOT NULL,
    extracted_at  TIMESTAMPTZ NOT NULL
);
