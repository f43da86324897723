"""Mail: the app's SMTP server greets, offers STARTTLS where it must, accepts the app's own
credentials, and, outside production, is the sink that keeps mail from reaching people."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runbook_checks.errors import CheckFailed

if TYPE_CHECKING:
    from runbook_checks.targets.smtp import Greeting, Login


def greets(label: str, greeting: Greeting) -> None:
    """EHLO is answered with 250 (a server that only speaks HELO offers no AUTH or STARTTLS)."""
    if greeting.code != 250:
        raise CheckFailed(f"the SMTP server of {label} answers EHLO with 250",
                          f"EHLO answered {greeting.code} {greeting.text[:200]}",
                          "check the mail server's status and that the host and port are its SMTP port")


def offers_starttls(label: str, greeting: Greeting) -> None:
    """STARTTLS is offered: without it, the login and every message cross the network in clear."""
    if "starttls" not in greeting.extensions:
        offered = ", ".join(sorted(greeting.extensions)) or "no extensions"
        raise CheckFailed(f"the SMTP server of {label} offers STARTTLS",
                          f"it offers {offered}",
                          "use the provider's submission port (587) with STARTTLS, or enable TLS on "
                          "the server")


def tls_negotiated(label: str, version: str) -> None:
    """STARTTLS ends in TLS 1.2 or later."""
    if version not in ("TLSv1.2", "TLSv1.3"):
        raise CheckFailed(f"STARTTLS with the SMTP server of {label} negotiates TLS 1.2 or later",
                          f"it negotiated {version}", "disable TLS 1.0 and 1.1 on the mail server")


def credentials_set(label: str, user: str, password: str, user_variable: str, password_variable: str) -> None:
    """Both halves of the app's SMTP login are configured (the password is never shown)."""
    unset = [name for name, value in ((user_variable, user), (password_variable, password)) if not value]
    if unset:
        raise CheckFailed(f"{label} has SMTP credentials", f"not set: {', '.join(unset)}",
                          "set the mail provider's SMTP username and password in the app's configuration")


def login_accepted(label: str, user_variable: str, login: Login) -> None:
    """AUTH with the app's own credentials succeeds."""
    if not login.accepted:
        where = "inside STARTTLS" if login.encrypted else "without TLS"
        raise CheckFailed(f"the SMTP server of {label} accepts the app's {user_variable} and password",
                          f"AUTH {where}: {login.reply[:200]}",
                          "copy the SMTP credentials from the provider's dashboard into the app's "
                          "configuration")


def points_at_sink(label: str, named: str, reached: str, sink: str) -> None:
    """The app's mail goes to the environment's sink (`reached` is where the gate reaches what the
    app names, `named`; they differ inside a compose network)."""
    if reached != sink:
        shown = named if named == reached else f"{named} ({reached} from here)"
        raise CheckFailed(f"{label} sends mail to the sink at {sink}", f"it sends to {shown}",
                          "point the app's SMTP host and port at the environment's mail sink")


def arrived(label: str, outcome: str, message_id: str, seen: bool, seconds: float) -> None:
    """A message sent as the app would send it is accepted and shows up in the sink's inbox."""
    if outcome != "accepted":
        raise CheckFailed(f"a message sent with {label}'s SMTP settings is accepted", outcome[:300],
                          "check the SMTP credentials and the server's logs")
    if not seen:
        raise CheckFailed(f"message {message_id} in the sink's inbox within {seconds:g} s",
                          "it was accepted but has not arrived",
                          "check where the sink delivers (its Maildir) and its log")
