-- author's grants file: what each role may do. The seed applies it; the gate checks it is in force.
GRANT USAGE ON SCHEMA public TO author_app, author_migrator;
GRANT SELECT, INSERT, UPDATE, DELETE ON migrations TO author_migrator;
GRANT USAGE ON SEQUENCE migrations_id_seq TO author_migrator;
GRANT SELECT, INSERT, UPDATE ON recordings, detections TO author_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO author_app;
-- the app may read which migrations ran (by id and name), never change the ledger
GRANT SELECT (id, name) ON migrations TO author_app;
-- tables the migration role creates later are the app's to use
ALTER DEFAULT PRIVILEGES FOR ROLE author_migrator IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE ON TABLES TO author_app;
