-- 0001: the raw store, parsed messages, threads, cursors and the load log.
-- Forward-only: never edit this file once released; add 0002_*.sql instead.

CREATE SEQUENCE load_id_seq START 1;

-- One row per run of a stage (sync of one source, threading, enrichment, report, publish).
CREATE TABLE loads (
    load_id       BIGINT PRIMARY KEY,
    stage         VARCHAR NOT NULL,
    source        VARCHAR,
    started_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ,
    status        VARCHAR NOT NULL,          -- running | ok | failed | interrupted
    messages_seen BIGINT NOT NULL DEFAULT 0, -- raw messages the source handed us
    messages_new  BIGINT NOT NULL DEFAULT 0, -- of those, not stored before
    error         VARCHAR,
    details       JSON
);

-- The exact bytes of every distinct message, content-addressed. Append-only.
CREATE TABLE raw_messages (
    sha256    VARCHAR PRIMARY KEY,
    raw       BLOB NOT NULL,
    size      BIGINT NOT NULL,
    load_id   BIGINT NOT NULL,
    stored_at TIMESTAMPTZ NOT NULL
);

-- Where each raw message was seen: one row per (source, folder, position in the source).
-- A message present in two folders has two rows and one raw_messages / messages row.
CREATE TABLE message_locations (
    source              VARCHAR NOT NULL,
    folder              VARCHAR NOT NULL,
    location            VARCHAR NOT NULL,   -- mbox byte offset, maildir key, file path, IMAP UID, POP3 UIDL
    sha256              VARCHAR NOT NULL,
    folder_role         VARCHAR NOT NULL,
    internal_date       TIMESTAMPTZ,
    provider_message_id VARCHAR,
    provider_thread_id  VARCHAR,
    load_id             BIGINT NOT NULL,
    seen_at             TIMESTAMPTZ NOT NULL,
    deleted_at          TIMESTAMPTZ,        -- set when the source no longer has it; rows are never deleted
    PRIMARY KEY (source, folder, location)
);

-- Incremental state per source and scope (a file, a folder), committed with the data it covers.
CREATE TABLE source_cursors (
    source     VARCHAR NOT NULL,
    scope      VARCHAR NOT NULL,
    value      JSON NOT NULL,
    load_id    BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, scope)
);

-- One row per distinct raw message, parsed.
CREATE TABLE messages (
    -- = raw_messages.sha256. Not declared a key: raw_messages' key already guarantees one row per
    -- message (rows are only inserted for new raw messages, in the same transaction), and an index
    -- here would cost a third of the insert time.
    message_key            VARCHAR NOT NULL,
    source                 VARCHAR NOT NULL,     -- where it was first seen
    folder                 VARCHAR NOT NULL,
    folder_role            VARCHAR NOT NULL,
    rfc_message_id         VARCHAR,
    in_reply_to            VARCHAR,
    reference_ids          VARCHAR[],
    thread_id              VARCHAR,
    parent_key             VARCHAR,
    duplicate_of           VARCHAR,
    subject                VARCHAR NOT NULL,
    normalized_subject     VARCHAR NOT NULL,
    sent_at                TIMESTAMPTZ NOT NULL,
    sent_at_offset_minutes INTEGER,
    date_source            VARCHAR NOT NULL,
    from_address           VARCHAR,
    from_name              VARCHAR,
    from_domain            VARCHAR,
    to_addresses           VARCHAR[],
    cc_addresses           VARCHAR[],
    bcc_addresses          VARCHAR[],
    reply_to_addresses     VARCHAR[],
    direction              VARCHAR NOT NULL,     -- inbound | outbound | internal
    body_text              VARCHAR NOT NULL,
    body_html              BOOLEAN NOT NULL,
    new_text               VARCHAR NOT NULL,
    signature              VARCHAR NOT NULL,
    attachments            STRUCT(filename VARCHAR, content_type VARCHAR, size BIGINT, sha256 VARCHAR)[],
    attachment_count       INTEGER NOT NULL,
    size_bytes             BIGINT NOT NULL,
    headers                MAP(VARCHAR, VARCHAR),
    parse_problems         VARCHAR[] NOT NULL,
    parser_version         VARCHAR NOT NULL,
    load_id                BIGINT NOT NULL,
    ingested_at            TIMESTAMPTZ NOT NULL
);

-- Every address of every message, one row each: the friendly shape for BI tools.
CREATE TABLE message_addresses (
    message_key VARCHAR NOT NULL,
    role        VARCHAR NOT NULL,   -- from | sender | to | cc | bcc | reply_to
    position    INTEGER NOT NULL,
    address     VARCHAR NOT NULL,
    name        VARCHAR NOT NULL,
    domain      VARCHAR NOT NULL,
    is_identity BOOLEAN NOT NULL    -- one of our own addresses ([identity])
);

CREATE TABLE threads (
    thread_id         VARCHAR PRIMARY KEY,
    root_message_id   VARCHAR,
    subject           VARCHAR,
    first_message_key VARCHAR,
    last_message_key  VARCHAR,
    first_message_at  TIMESTAMPTZ,
    last_message_at   TIMESTAMPTZ,
    message_count     BIGINT,
    inbound_count     BIGINT,
    outbound_count    BIGINT,
    internal_count    BIGINT,
    participants      VARCHAR[],
    participant_count BIGINT,
    load_id           BIGINT
);
