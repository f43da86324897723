-- author: recordings, detections, and the migrations ledger the migration role writes.
CREATE TABLE migrations (
    id serial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE recordings (
    id bigserial PRIMARY KEY,
    s3_key text NOT NULL,
    uploaded_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE detections (
    id bigserial PRIMARY KEY,
    recording_id bigint NOT NULL REFERENCES recordings (id),
    model_version text NOT NULL,
    flagged boolean NOT NULL DEFAULT false
);
INSERT INTO migrations (name) VALUES ('0001_init'), ('0002_detections');

\ir author-grants.sql
