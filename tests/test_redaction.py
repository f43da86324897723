"""Secrets are masked wherever they appear, including the pieces of a malformed URL."""

from runbook_checks.redaction import MASK, Redactor


def test_named_secrets_are_masked_and_plain_urls_kept() -> None:
    redactor = Redactor()
    redactor.add_variable("JWT_SECRET", "s3cr3t-value-long")
    redactor.add_variable("NEXTAUTH_URL", "https://example.com")
    redactor.add_variable("LOG_LEVEL", "debug")
    redactor.add_variable("ACCESS_TOKEN_MINUTES", "1440")
    redactor.add_variable("QSTASH_TOKEN", "qstash-token-value")
    text = redactor("jwt=s3cr3t-value-long url=https://example.com level=debug minutes=1440 "
                    "q=qstash-token-value")
    assert text == f"jwt={MASK} url=https://example.com level=debug minutes=1440 q={MASK}"


def test_url_credentials_are_masked_raw_and_decoded() -> None:
    redactor = Redactor()
    redactor.add_variable("DATABASE_URL", "postgresql://app:p%40ss%2Fword@db:5432/x")
    assert redactor("password p@ss/word or p%40ss%2Fword") == f"password {MASK} or {MASK}"


def test_pieces_of_an_unencoded_password_are_masked() -> None:
    redactor = Redactor()
    redactor.add_variable("DATABASE_URL", "postgresql://app:first@secondpart/thirdpart#@db:5432/x")
    text = redactor("failed to resolve host 'secondpart'; first; thirdpart")
    assert "secondpart" not in text and "first" not in text and "thirdpart" not in text
