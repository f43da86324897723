-- audiospective: Prisma-managed tables (quoted camelCase columns) and its migration ledger.
SET ROLE audiospective_app;
CREATE TABLE _prisma_migrations (
    id varchar(36) PRIMARY KEY,
    checksum varchar(64) NOT NULL,
    finished_at timestamptz,
    migration_name varchar(255) NOT NULL,
    logs text,
    rolled_back_at timestamptz,
    started_at timestamptz NOT NULL DEFAULT now(),
    applied_steps_count integer NOT NULL DEFAULT 0
);
CREATE TABLE users (
    id text PRIMARY KEY,
    "spotifyId" text NOT NULL UNIQUE,
    "accessToken" text,
    "refreshToken" text,
    "lastPolledAt" timestamptz,
    "isActive" boolean NOT NULL DEFAULT true,
    "circuitOpenUntil" timestamptz
);
CREATE TABLE artists (id text PRIMARY KEY, name text NOT NULL);
CREATE TABLE albums (id text PRIMARY KEY, name text NOT NULL, "artistId" text REFERENCES artists (id));
CREATE TABLE tracks (id text PRIMARY KEY, name text NOT NULL, "albumId" text REFERENCES albums (id));
CREATE TABLE play_events (
    id bigserial PRIMARY KEY,
    "userId" text NOT NULL REFERENCES users (id),
    "trackId" text NOT NULL REFERENCES tracks (id),
    "playedAt" timestamptz NOT NULL
);
CREATE TABLE shareable_reports (id text PRIMARY KEY, "userId" text NOT NULL REFERENCES users (id));

CREATE INDEX "play_events_userId_playedAt_idx" ON play_events ("userId", "playedAt");
CREATE INDEX "play_events_trackId_idx" ON play_events ("trackId");
CREATE INDEX "play_events_userId_trackId_idx" ON play_events ("userId", "trackId");
CREATE INDEX "tracks_albumId_idx" ON tracks ("albumId");

INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count)
VALUES ('6f0c1d2e-0000-4000-8000-000000000001', repeat('a', 64), now(), '20250101000000_init', 1),
       ('6f0c1d2e-0000-4000-8000-000000000002', repeat('b', 64), now(), '20250201000000_play_events', 1);

INSERT INTO users (id, "spotifyId", "accessToken", "refreshToken", "lastPolledAt")
SELECT 'user-' || g, 'spotify-' || g, 'access-' || g, 'refresh-' || g, now() - interval '5 minutes'
FROM generate_series(1, 50) AS g;
INSERT INTO artists VALUES ('artist-1', 'An Artist');
INSERT INTO albums VALUES ('album-1', 'An Album', 'artist-1');
INSERT INTO tracks SELECT 'track-' || g, 'Track ' || g, 'album-1' FROM generate_series(1, 20) AS g;
INSERT INTO play_events ("userId", "trackId", "playedAt")
SELECT 'user-' || (g % 50 + 1), 'track-' || (g % 20 + 1), now() - g * interval '10 seconds'
FROM generate_series(1, 20000) AS g;
INSERT INTO shareable_reports SELECT 'report-' || g, 'user-' || g FROM generate_series(1, 10) AS g;
RESET ROLE;
