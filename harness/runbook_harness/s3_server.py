"""The stack's S3 endpoint: moto's server, seeded in its own process before it listens, so that it
answers healthy from its first request, natively and in its container alike (a restart seeds it
again). The IAM users get the access keys the stack generated (from the process environment), so
the API's env file holds them before anything starts; then moto checks every request's signature
and the caller's IAM policy. Each request is logged with its method, path and STS action.

Run as: python -m runbook_harness.s3_server --host HOST --port PORT
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from moto import mock_aws, settings
from moto.iam.models import iam_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from runbook_harness import s3_seed

# the stack's generated keys, by IAM user: (access key id variable, secret variable)
KEY_VARIABLES = {s3_seed.APP_USER: ("RC_SECRET_AUTHOR_AWS_KEY_ID", "RC_SECRET_AUTHOR_AWS_SECRET"),
                 s3_seed.ADMIN_USER: ("RC_SECRET_S3_ADMIN_KEY_ID", "RC_SECRET_S3_ADMIN_SECRET")}


def seed() -> None:
    """Users, their keys and the bucket, written in-process before the server listens."""
    mock = mock_aws()
    mock.start()
    iam = s3_seed.client("iam", None, "seed", "seed")
    keys = s3_seed.create_users(iam)
    s3_seed.create_bucket(s3_seed.client("s3", None, "seed", "seed"))
    backend = iam_backends[s3_seed.ACCOUNT]["aws"]
    for user, (id_variable, secret_variable) in KEY_VARIABLES.items():
        key = backend.access_keys.pop(keys[user])
        key.access_key_id = os.environ[id_variable]
        key.secret_access_key = os.environ[secret_variable]
        backend.access_keys[key.access_key_id] = key
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0  # from now on every request is authenticated


Application = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def logged(app: Application) -> Application:
    """Logs each request (method, path and query, and an STS or IAM action) before moto answers it."""

    def handle(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        action = ""
        if environ["REQUEST_METHOD"] == "POST" and environ.get("PATH_INFO") == "/":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(body)
            action = " action=" + ",".join(parse_qs(body.decode("utf-8", "replace")).get("Action", ["?"]))
        query = f"?{environ['QUERY_STRING']}" if environ.get("QUERY_STRING") else ""
        print(f"request {environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')}{query}{action}",
              file=sys.stderr, flush=True)
        return app(environ, start_response)

    return handle


_UPLOAD = re.compile(rb"<Upload>.*?</Upload>", re.DOTALL)
_UPLOAD_ID = re.compile(rb"<UploadId>(.*?)</UploadId>")
_INITIATED = re.compile(rb"<Initiated>[^<]*</Initiated>")


def initiated_times(app: Application) -> Application:
    """Lists open multipart uploads with the time each was started: moto answers a fixed date of
    2010 for every one, which would make any upload look stale."""
    started: dict[bytes, bytes] = {}

    def handle(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if "uploads" not in query:
            return app(environ, start_response)
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z").encode()
        body = b"".join(app(environ, start_response))
        if environ["REQUEST_METHOD"] == "POST":
            started.update(dict.fromkeys(_UPLOAD_ID.findall(body), now))
            return [body]

        def stamped(upload: re.Match[bytes]) -> bytes:
            found = _UPLOAD_ID.search(upload.group(0))
            when = started.get(found.group(1), now) if found else now
            return _INITIATED.sub(b"<Initiated>" + when + b"</Initiated>", upload.group(0))

        return [_UPLOAD.sub(stamped, body)]

    return handle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    seed()
    moto = DomainDispatcherApplication(create_backend_app)
    server = make_server(args.host, args.port, logged(initiated_times(moto)), threaded=True)
    print(f"s3: seeded, listening on {args.host}:{args.port}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
