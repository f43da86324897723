-- author's grants file: what each role may do. The seed applies it; the gate checks it is in force.
GRANT USAGE ON SCHEMA public TO author_app, author_migrator;
GRANT SELECT, INSERT, UPDATE, DELETE ON migrations TO author_migrator;
GRANT USAGE ON SEQUENCE migrations_id_seq TO author_migrator;
GRANT SELECT, INSERT, UPDATE ON recordings, detections TO author_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO author_app;
