-- practiceops' reference rows, loaded as the app's role once its migrations are at head.
INSERT INTO teams VALUES ('00000000-0000-4000-8000-0000000000a1', 'Orchestra');
INSERT INTO users VALUES ('00000000-0000-4000-8000-000000000001', 'lead@example.test', 'Lead', now());
INSERT INTO team_memberships VALUES ('00000000-0000-4000-8000-0000000000a1',
                                     '00000000-0000-4000-8000-000000000001', 'ADMIN', NULL);
