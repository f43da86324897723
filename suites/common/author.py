"""Checks of the author runbook: uploads, detection worker, Postgres, Redis, S3, SMTP."""


from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from runbook_checks.assertions import (
    app_database_answers,
    app_mail_credentials,
    app_mail_server,
    app_redis,
    app_redis_answers,
    app_s3,
    app_setting,
    mail_goes_to_sink,
    privileges_held,
    sent_mail_arrives,
)
from runbook_checks.checks import (
    bucket_policy,
    config,
    grants,
    hosts,
    mail,
    queues,
    redis,
    schema,
    storage,
)
from runbook_checks.errors import CheckFailed
from runbook_checks.expected import expected_state

if TYPE_CHECKING:
    from runbook_checks.environment import Environment
    from runbook_checks.targets.registry import Targets

EXPECTED = expected_state(__file__)
MIGRATION = EXPECTED["migration"]
MAIL = EXPECTED["mail"]
STORAGE = EXPECTED["storage"]
WORKER = EXPECTED["worker"]


@pytest.mark.runbook("author#database-migrations")
@pytest.mark.severity("critical")
@pytest.mark.symptom("author.1", "permission denied for table (SQLSTATE 42501) while migrating")
class TestDatabaseMigrations:
    @pytest.mark.symptom("author.1", "migrations fail to connect: the migration role may not log in")
    def test_migration_role_can_log_in(self, targets: Targets) -> None:
        catalog = targets.postgres(EXPECTED["database"]).catalog()
        schema.role_is(catalog, MIGRATION["role"], login=True, superuser=False)

    def test_migration_dsn_uses_the_migration_role(self, targets: Targets) -> None:
        url = targets.app_config(MIGRATION["app"]).get(MIGRATION["dsn_variable"], "")
        user = urlsplit(url).username
        if user != MIGRATION["role"]:
            raise CheckFailed(f"{MIGRATION['dsn_variable']} of {MIGRATION['app']} connects as "
                              f"{MIGRATION['role']}", f"it connects as {user or 'nobody (not set)'}",
                              f"point {MIGRATION['dsn_variable']} at the {MIGRATION['role']} role")

    @pytest.mark.symptom("author.1", "migrations fail to connect: the migration role may not log in")
    def test_migration_dsn_logs_in(self, targets: Targets, environment: Environment) -> None:
        app_database_answers(targets, environment, MIGRATION["app"], MIGRATION["dsn_variable"])

    @pytest.mark.symptom("author.2", "the API runs without the values of its .env")
    def test_api_has_its_variables(self, targets: Targets) -> None:
        api = EXPECTED["api"]
        config.required_set(api["app"], targets.app_config(api["app"]), api["required_variables"])

    @pytest.mark.symptom("author.2", "the API runs without the values of its .env")
    def test_api_runs_with_its_env_file(self, targets: Targets) -> None:
        app = EXPECTED["api"]["app"]
        config.running_has_file_values(app, targets.app_env_file(app), targets.running_app_config(app))

    def test_migration_role_holds_its_privileges(self, targets: Targets) -> None:
        declared = [grants.Grant(MIGRATION["role"], "table", table, privilege)
                    for table, privileges in MIGRATION["privileges"].items() for privilege in privileges]
        privileges_held(targets, EXPECTED["database"], declared, exact=MIGRATION.get("exact", False))

    def test_rls_lets_the_migrator_work(self, targets: Targets) -> None:
        schema.rls_lets_role_work(targets.postgres(EXPECTED["database"]).catalog(), MIGRATION["privileges"],
                                  MIGRATION["role"])

    def test_grants_file_in_force(self, targets: Targets, environment: Environment) -> None:
        from runbook_checks.checks import grants_file  # PostgreSQL's parser, for this check alone

        (sql,) = targets.artifact(MIGRATION["app"], "grants_file").values()
        declared = grants_file.parse_grants_file(sql, targets.postgres(EXPECTED["database"]).catalog())
        privileges_held(targets, EXPECTED["database"], declared)


@pytest.mark.runbook("author#api-authentication")
@pytest.mark.severity("high")
@pytest.mark.symptom("author.3", "401 Unauthorized or invalid session token on local requests")
class TestApiAuthentication:
    def test_jwt_secret_same_in_api_and_web(self, targets: Targets) -> None:
        shared = EXPECTED["jwt_secret"]
        configs = {app: targets.app_config(app) for app in shared["apps"]}
        config.secret_shared(configs, shared["variable"])

    @pytest.mark.symptom("author.4", "sessions fail: the session store does not answer")
    def test_api_reaches_its_redis(self, targets: Targets) -> None:
        app_redis_answers(targets, EXPECTED["api"]["app"], "REDIS_URL")

    @pytest.mark.symptom("author.4", "sessions fail: the session store does not answer")
    def test_session_redis_answers(self, targets: Targets) -> None:
        redis.answers_ping(targets.redis(EXPECTED["session_redis"]).ping())


@pytest.mark.runbook("author#email-delivery-issues")
@pytest.mark.severity("high")
@pytest.mark.symptom("author.5", "no verification emails: the SMTP server refuses the connection or login")
class TestEmailDelivery:
    """The API's own SMTP settings, tried as it uses them."""

    def test_smtp_answers_ehlo(self, targets: Targets) -> None:
        mail.greets(MAIL["app"], app_mail_server(targets, MAIL["app"], MAIL).greeting())

    @pytest.mark.needs("production")
    def test_smtp_offers_starttls(self, targets: Targets) -> None:
        server = app_mail_server(targets, MAIL["app"], MAIL)
        mail.offers_starttls(MAIL["app"], server.greeting())
        mail.tls_negotiated(MAIL["app"], server.tls_version())

    def test_smtp_credentials_accepted(self, targets: Targets, environment: Environment) -> None:
        user, password = app_mail_credentials(targets, MAIL["app"], MAIL)
        login = app_mail_server(targets, MAIL["app"], MAIL).login(user, password, environment.production)
        mail.login_accepted(MAIL["app"], MAIL["user_variable"], login)

    @pytest.mark.needs("mail_sink")
    def test_mail_goes_to_the_sink(self, targets: Targets, environment: Environment) -> None:
        mail_goes_to_sink(targets, environment, MAIL["app"], MAIL)

    @pytest.mark.needs("state_changes", "mail_inbox")
    def test_sent_mail_arrives(self, targets: Targets, environment: Environment) -> None:
        sent_mail_arrives(targets, environment, MAIL["app"], MAIL)


@pytest.mark.runbook("author#s3--storage-problems")
@pytest.mark.severity("high")
@pytest.mark.symptom("author.6", "recording uploads stall or fail with AccessDenied")
class TestStorage:
    """Read with the API's own AWS credentials: what the app can do is what its key can do."""

    def test_credentials_are_the_apps_principal(self, targets: Targets, environment: Environment) -> None:
        app = STORAGE["app"]
        s3 = app_s3(targets, app, STORAGE["variables"])
        storage.identity_is(s3.name, s3.caller_arn(), environment.aws[app].principal)

    def test_bucket_exists(self, targets: Targets) -> None:
        app = STORAGE["app"]
        bucket = app_setting(targets, app, STORAGE["bucket_variable"])
        storage.bucket_exists(STORAGE["bucket_variable"], bucket,
                              app_s3(targets, app, STORAGE["variables"]).bucket_exists(bucket))

    def test_bucket_policy_lets_the_app_work(self, targets: Targets, environment: Environment) -> None:
        app = STORAGE["app"]
        bucket = app_setting(targets, app, STORAGE["bucket_variable"])
        policy = app_s3(targets, app, STORAGE["variables"]).bucket_policy(bucket)
        bucket_policy.grants(bucket, policy, environment.aws[app].principal,
                             bucket_policy.needs_for(bucket, STORAGE["permissions"]))

    def test_no_stale_multipart_upload(self, targets: Targets, environment: Environment) -> None:
        app = STORAGE["app"]
        bucket = app_setting(targets, app, STORAGE["bucket_variable"])
        uploads = app_s3(targets, app, STORAGE["variables"]).multipart_uploads(bucket)
        storage.no_stale_multipart_upload(bucket, uploads, datetime.now(UTC),
                                          environment.thresholds.multipart_upload_max_hours)

    @pytest.mark.symptom("author.6", "retention job failures: nothing expires what the bucket keeps")
    def test_lifecycle_rule_enabled(self, targets: Targets) -> None:
        app = STORAGE["app"]
        bucket = app_setting(targets, app, STORAGE["bucket_variable"])
        storage.lifecycle_enabled(bucket, app_s3(targets, app, STORAGE["variables"]).lifecycle_rules(bucket))

    @pytest.mark.needs("production")
    def test_public_access_blocked(self, targets: Targets) -> None:
        app = STORAGE["app"]
        bucket = app_setting(targets, app, STORAGE["bucket_variable"])
        storage.public_access_blocked(bucket,
                                      app_s3(targets, app, STORAGE["variables"]).public_access_block(bucket))


@pytest.mark.runbook("author#worker--detection-anomalies")
@pytest.mark.severity("high")
@pytest.mark.symptom("author.7", "detection rates drop: the worker's model artifact is missing")
class TestWorkerModel:
    def test_model_artifact_in_bucket(self, targets: Targets) -> None:
        app, model = STORAGE["app"], STORAGE["model"]
        bucket = app_setting(targets, app, STORAGE["bucket_variable"])
        version = targets.app_config(app).get(model["version_variable"])
        key = storage.model_artifact_key(model["key"], model["version_variable"], version)
        storage.artifact_present(bucket, key, model["version_variable"], version or "",
                                 app_s3(targets, app, STORAGE["variables"]).object_exists(bucket, key))


@pytest.mark.runbook("author#worker--detection-anomalies")
@pytest.mark.severity("high")
@pytest.mark.symptom("author.7", "flag backlog and processing lag: the detection worker is down or behind")
class TestDetectionWorker:
    """The worker's own configuration names its Redis, queue and heartbeat key: the checks read
    where it works, with its credentials (the Redis target of that URL, which another app of the same
    URL may share), and only read (TYPE, GET, TIME, LLEN, ZCARD)."""

    @pytest.mark.needs(host=WORKER["process"]["host"])
    def test_worker_process_running(self, targets: Targets) -> None:
        spec = WORKER["process"]
        hosts.process_running(targets.host(spec["host"]).processes(spec["pattern"]))

    def test_worker_heartbeat_fresh(self, targets: Targets, environment: Environment) -> None:
        app = WORKER["app"]
        key = app_setting(targets, app, WORKER["heartbeat_variable"])
        server = app_redis(targets, app, WORKER["redis_variable"])
        queues.heartbeat_fresh(f"{app}'s {WORKER['redis_variable']}", server.heartbeat(key),
                               environment.thresholds.worker_heartbeat_seconds)

    def test_detection_queue_under_limit(self, targets: Targets, environment: Environment) -> None:
        app = WORKER["app"]
        queue = app_setting(targets, app, WORKER["queue_variable"])
        server = app_redis(targets, app, WORKER["redis_variable"])
        queues.queue_depth_under(f"{app}'s {WORKER['redis_variable']}",
                                 server.queue_depth(WORKER["queue_prefix"], queue),
                                 environment.thresholds.queue_depth_max)
