-- ghostworks' reference rows, loaded as the app's role once its migrations are at head.
INSERT INTO organizations (name) VALUES ('Demo');
