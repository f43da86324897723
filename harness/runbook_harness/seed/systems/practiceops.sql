-- practiceops: teams, memberships and tickets, managed by Alembic.
SET ROLE practiceops_app;
CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
INSERT INTO alembic_version VALUES ('0007_ticket_indexes');
CREATE TABLE users (id uuid PRIMARY KEY, email text, display_name text NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE teams (id uuid PRIMARY KEY, name text NOT NULL);
-- The app, not the schema, keeps memberships valid (no foreign keys, no CHECK on role).
CREATE TABLE team_memberships (
    team_id uuid NOT NULL,
    user_id uuid NOT NULL,
    role text NOT NULL,
    section text,
    PRIMARY KEY (team_id, user_id)
);
CREATE TABLE tickets (
    id uuid PRIMARY KEY,
    team_id uuid NOT NULL REFERENCES teams (id),
    owner_id uuid REFERENCES users (id),
    status text NOT NULL DEFAULT 'OPEN',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tickets_team_id_status_idx ON tickets (team_id, status);
CREATE INDEX tickets_owner_id_idx ON tickets (owner_id);
CREATE TABLE notification_preferences (
    user_id uuid NOT NULL REFERENCES users (id),
    team_id uuid NOT NULL REFERENCES teams (id),
    email_enabled boolean NOT NULL DEFAULT true,
    PRIMARY KEY (user_id, team_id)
);
INSERT INTO teams VALUES ('00000000-0000-4000-8000-0000000000a1', 'Orchestra');
INSERT INTO users VALUES ('00000000-0000-4000-8000-000000000001', 'lead@example.test', 'Lead', now());
INSERT INTO team_memberships VALUES ('00000000-0000-4000-8000-0000000000a1',
                                     '00000000-0000-4000-8000-000000000001', 'ADMIN', NULL);
RESET ROLE;
