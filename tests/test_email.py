"""The email channel (SPEC §3) against a real SMTP server (aiosmtpd) on 127.0.0.1, started
by each test on a free port: what a mail says and to whom, STARTTLS and implicit TLS with
a certificate made for the test, login with the password from the environment, a server
that refuses once and one that hangs, both retried by a later sweep after the backoff.

An urgent case opened at 10:00 warns at 10:12 (0.8 x 15m response) and breaches at
10:15, when the sweep escalates it from tier 1 to tier 2 (one notification for both).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import shutil
import socket
import subprocess
import threading
import time
import tomllib

import pytest
from aiosmtpd.smtp import SMTP, AuthResult

from esc_cli.domain.policy import DEFAULT_POLICY_TOML, dump_policy

PASSWORD = "Pw-Hunter2-Secret"
USER = "esc-bot"


class Mailbox:
    """What a test SMTP server received, and how it answers DATA: `answers` are used in
    turn (250 once they run out); with `hang` set it never answers until released."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], email.message.EmailMessage]] = []
        self.answers: list[str] = []
        self.logins: list[tuple[str, str]] = []
        self.hang = False
        self.echo_password = False
        self.refuse: set[str] = set()  # recipients refused at RCPT
        self.port = 0
        self.release: asyncio.Event | None = None


class Handler:
    def __init__(self, box: Mailbox):
        self.box = box

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.box.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.box.hang:
            await self.box.release.wait()
            return "451 4.3.0 gave up"
        if self.box.answers:
            return self.box.answers.pop(0)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.box.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 2.0.0 accepted"


def _authenticator(box: Mailbox):
    def check(server, session, envelope, mechanism, auth_data):
        login = auth_data.login.decode()
        password = auth_data.password.decode()
        box.logins.append((login, password))
        if box.echo_password:
            # a careless server that repeats the password in its refusal
            return AuthResult(success=False, handled=False,
                              message=f"535 5.7.8 bad password {password}")
        return AuthResult(success=(login, password) == (USER, PASSWORD))

    return check


class Servers:
    """Starts aiosmtpd servers on an event loop in a thread; stops them all at the end."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.servers = []
        self.boxes: list[Mailbox] = []

    def start(self, starttls=None, implicit_tls=None, auth: bool = False) -> Mailbox:
        box = Mailbox()

        async def make():
            box.release = asyncio.Event()

            def protocol():
                return SMTP(Handler(box), hostname="mail.test", tls_context=starttls,
                            authenticator=_authenticator(box) if auth else None,
                            auth_required=auth,
                            # aiosmtpd knows only STARTTLS as TLS; implicit TLS is TLS too
                            auth_require_tls=implicit_tls is None)

            return await self.loop.create_server(protocol, "127.0.0.1", 0, ssl=implicit_tls)

        server = asyncio.run_coroutine_threadsafe(make(), self.loop).result(10)
        box.port = server.sockets[0].getsockname()[1]
        self.servers.append(server)
        self.boxes.append(box)
        return box

    def unhang(self, box: Mailbox) -> None:
        box.hang = False
        self.loop.call_soon_threadsafe(box.release.set)

    def stop(self) -> None:
        async def close():
            for box in self.boxes:
                box.release.set()
            for server in self.servers:
                server.close()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture
def smtp():
    servers = Servers()
    yield servers
    servers.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, made with the openssl command (the test
    extra has no certificate library); the client trusts it through `cafile`."""
    import ssl

    openssl = shutil.which("openssl")
    assert openssl, "the TLS tests need the openssl command to make a test certificate"
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    return cert, context


def load_email(esc, tmp_path, **channel) -> None:
    policy = tomllib.loads(DEFAULT_POLICY_TOML)
    policy["channels"] = [{"type": "email", "host": "127.0.0.1", "security": "none",
                           "from": "Support desk <esc@example.com>", "to": "recipient",
                           "timeout": "5s", **channel}]
    path = tmp_path / "policy.toml"
    path.write_text(dump_policy(policy))
    esc.ok("policy", "load", str(path))


def body(mail) -> str:
    return mail.get_content().replace("\r\n", "\n")


def flat(text: str) -> str:
    """The text with its line wrapping undone."""
    return " ".join(text.split())


def deliveries(esc) -> list[dict]:
    return [d for n in esc.doc("notify", "list") for d in n["deliveries"]]


# -- what a mail says, and to whom --------------------------------------------------------

def test_warning_mail_to_the_owner_and_a_fixed_address(esc, tmp_path, smtp):
    box = smtp.start()
    load_email(esc, tmp_path, port=box.port, to=["recipient", "lead@example.com"])
    esc.ok("owner", "add", "bob", "--email", "bob@example.com", "--name", "Bob")
    esc.ok("open", "Checkout fails for EU cards", "--customer", "Globex", "--priority",
           "urgent", "--owner", "bob", "--team", "payments")
    esc.ok("sweep", now="2026-11-02T10:12:00Z")

    assert len(box.messages) == 1
    sender, rcpts, mail = box.messages[0]
    assert sender == "esc@example.com"
    assert rcpts == ["bob@example.com", "lead@example.com"]
    assert mail["Subject"] == "[esc] #1 response SLA at risk (urgent, tier 1 Frontline)"
    assert mail["From"] == "Support desk <esc@example.com>"
    assert mail["To"] == "bob@example.com, lead@example.com"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail.get_content_type() == "text/plain"
    text = body(mail)
    assert text.startswith("#1 Checkout fails for EU cards\n")
    assert ("Customer Globex, priority urgent, new, tier 1 Frontline, owner bob, team "
            "payments.") in flat(text)
    # what happened: the response clock is due at 10:15 (15m after 10:00)
    assert ("Mon 2 Nov 10:12 UTC The response SLA is at risk: it is due Mon 2 Nov 10:15 "
            "UTC.") in flat(text)
    # what happens next: the breach at 10:15, when the sweep escalates to tier 2
    assert "What happens next, if nothing changes" in text
    # what happens next: explain's plan (domain/plan.py). Bob works at tier 1, so the
    # escalation to tier 2 at 10:15 leaves the case to his team; the resolution clock
    # (4h) warns at 13:12 (0.8 x 4h) and breaches at 14:00; tier 3 goes stale 4h later.
    plan = flat(text.split("What happens next, if nothing changes")[1].split("See it:")[0])
    assert plan == (
        "Mon 2 Nov 10:15 UTC response SLA breached, due Mon 2 Nov 10:15 UTC "
        "Mon 2 Nov 10:15 UTC escalated to tier 2 Specialist: response SLA breached; "
        "notifies team:payments "
        "Mon 2 Nov 13:12 UTC warning: resolution SLA at risk, due Mon 2 Nov 14:00 UTC; "
        "notifies team:payments "
        "Mon 2 Nov 14:00 UTC resolution SLA breached, due Mon 2 Nov 14:00 UTC "
        "Mon 2 Nov 14:00 UTC escalated to tier 3 Manager: resolution SLA breached; "
        "notifies team:payments "
        "Mon 2 Nov 18:00 UTC escalated to tier 4 Senior management: stale: no activity at "
        "tier 3 for 4h; notifies team:payments")
    # and the same steps as `esc explain` lists
    explained = esc.doc("explain", "1", now="2026-11-02T10:12:00Z")["plan"]
    assert [s["at"][11:16] for s in explained] == ["10:15", "10:15", "13:12", "14:00", "14:00",
                                                   "18:00"]
    assert "esc show 1" in text and "esc explain 1" in text
    assert deliveries(esc) == [{"channel": "email:1", "state": "delivered", "attempts": 1,
                                "last_error": None, "next_attempt_at": None}]


def test_breach_and_escalation_mail(esc, tmp_path, smtp):
    box = smtp.start()
    load_email(esc, tmp_path, port=box.port, to="ops@example.com")
    esc.ok("open", "Login loop", "--customer", "Initech", "--priority", "urgent")
    esc.ok("sweep", now="2026-11-02T10:16:00Z")

    assert len(box.messages) == 1
    _, rcpts, mail = box.messages[0]
    assert rcpts == ["ops@example.com"]
    assert mail["Subject"] == ("[esc] #1 breached response SLA and escalated "
                               "(urgent, tier 2 Specialist)")
    text = body(mail)
    assert ("The response SLA was breached (it was due Mon 2 Nov 10:15 UTC) and the case was "
            "escalated from tier 1 to tier 2 Specialist by sweep.") in flat(text)
    assert "Reason: response SLA breached." in flat(text)
    assert "new, tier 2 Specialist, no owner. Breached: response. What happened" in flat(text)


def test_recipient_falls_back_by_team_then_tier_then_default(esc, tmp_path, smtp):
    box = smtp.start()
    load_email(esc, tmp_path, port=box.port, to="recipient",
               fallback={"team:billing": "billing@example.com", "tier:1": "t1@example.com",
                         "default": "leads@example.com"})
    esc.ok("owner", "add", "eve")  # an owner without an email address
    esc.ok("open", "A", "--customer", "C", "--priority", "urgent", "--team", "billing")
    esc.ok("open", "B", "--customer", "C", "--priority", "urgent")
    esc.ok("open", "C", "--customer", "C", "--priority", "urgent", "--owner", "eve",
           "--team", "support")
    esc.ok("sweep", now="2026-11-02T10:12:00Z")

    got = {mail["X-Esc-Case"]: rcpts for _, rcpts, mail in box.messages}
    assert got == {"1": ["billing@example.com"], "2": ["t1@example.com"],
                   "3": ["t1@example.com"]}


def test_no_address_at_all_is_a_failed_delivery_that_says_why(esc, tmp_path, smtp):
    box = smtp.start()
    load_email(esc, tmp_path, port=box.port, to="recipient")
    esc.ok("open", "A", "--customer", "C", "--priority", "urgent", "--team", "billing")
    result = esc.ok("sweep", now="2026-11-02T10:12:00Z")

    assert box.messages == []
    assert "1 failed" in result.out
    [delivery] = deliveries(esc)
    assert delivery["state"] == "failed"
    assert delivery["last_error"].startswith("the case has no owner and no fallback matches "
                                             "(team:billing, tier:1, default)")


def test_one_notification_without_an_address_does_not_hold_up_the_others(esc, tmp_path, smtp):
    """No address for one recipient is that notification's problem, not the channel's: the
    others go out in the same run, and `notify retry` tries each undelivered one once."""
    box = smtp.start()
    load_email(esc, tmp_path, port=box.port, to="recipient")
    esc.ok("owner", "add", "nomail")
    esc.ok("owner", "add", "good", "--email", "good@example.com")
    esc.ok("open", "A", "--customer", "C", "--priority", "urgent", "--owner", "nomail",
           now="2026-11-02T10:00:00Z")
    esc.ok("open", "B", "--customer", "C", "--priority", "urgent", "--owner", "good",
           now="2026-11-02T10:05:00Z")
    first = esc.ok("sweep", now="2026-11-02T10:13:00Z")  # A warns (10:12): nobody to mail
    assert first.out.endswith(" 1 notified (1 failed)\n")
    assert first.err.startswith("sweep: email:1 failed for #1: owner nomail has no email address")

    # 10:17: A's warning again (due 10:14), A's escalation (breached 10:15), B's warning
    # (10:17): A's two fail alone, B's goes out in the same run
    second = esc.doc("sweep", now="2026-11-02T10:17:00Z")
    assert [(mail["X-Esc-Case"], rcpts) for _, rcpts, mail in box.messages] == [
        ("2", ["good@example.com"])]
    assert (second["failed"], second["not_tried"]) == (2, 0)
    assert [(f["channel"], f["case"]) for f in second["failures"]] == [("email:1", 1),
                                                                      ("email:1", 1)]
    notes = esc.doc("notify", "list")
    states = {(n["case"], n["kind"]): n["deliveries"][0]["state"] for n in notes}
    assert states == {(1, "warning"): "failed", (1, "escalation"): "failed",
                      (2, "warning"): "delivered"}

    # notify retry tries each undelivered one once, in spite of the failures before it
    retry = esc("notify", "retry", now="2026-11-02T10:17:00Z")
    assert (retry.code, retry.out) == (0, "notify: 0 delivered, 2 failed\n")
    assert len(retry.err.splitlines()) == 2
    assert sorted(d["attempts"] for d in deliveries(esc)) == [1, 2, 3]
    assert len(box.messages) == 1


def test_a_refused_recipient_fails_that_mail_alone(esc, tmp_path, smtp):
    box = smtp.start()
    box.refuse = {"gone@example.com"}
    load_email(esc, tmp_path, port=box.port, to="recipient")
    esc.ok("owner", "add", "gone", "--email", "gone@example.com")
    esc.ok("owner", "add", "good", "--email", "good@example.com")
    esc.ok("open", "A", "--customer", "C", "--priority", "urgent", "--owner", "gone")
    esc.ok("open", "B", "--customer", "C", "--priority", "urgent", "--owner", "good")
    result = esc.ok("sweep", now="2026-11-02T10:12:00Z")

    assert [rcpts for _, rcpts, _ in box.messages] == [["good@example.com"]]
    assert result.out.endswith(" 2 notified (1 failed)\n")
    [failed] = [d for d in deliveries(esc) if d["state"] == "failed"]
    assert failed["last_error"] == (f"127.0.0.1:{box.port}: every recipient refused: "
                                    "gone@example.com (SMTP 550 5.1.1 no such mailbox)")
    assert failed["next_attempt_at"] == "2026-11-02T10:13:00Z"


# -- refusals and hangs: retried later with the backoff ------------------------------------

@pytest.mark.parametrize("answer", ["451 4.3.0 mailbox busy, try later",
                                    "554 5.7.1 rejected for policy reasons"])
def test_a_server_that_refuses_once_gets_it_on_a_later_sweep(esc, tmp_path, smtp, answer):
    box = smtp.start()
    box.answers = [answer]
    load_email(esc, tmp_path, port=box.port, to="ops@example.com")
    esc.ok("open", "A", "--customer", "C", "--priority", "urgent")

    first = esc.doc("sweep", now="2026-11-02T10:12:00Z")
    assert box.messages == []
    assert first["failed"] == 1
    # backoff: 1 minute after the first failure
    assert first["failures"] == [{"channel": "email:1", "case": None,
                                  "error": f"127.0.0.1:{box.port}: SMTP {answer}",
                                  "next_attempt_at": "2026-11-02T10:13:00Z"}]

    esc.ok("sweep", now="2026-11-02T10:12:30Z")  # still backing off: not tried
    assert box.messages == []
    assert deliveries(esc)[0]["attempts"] == 1

    esc.ok("sweep", now="2026-11-02T10:13:00Z")
    assert len(box.messages) == 1
    assert deliveries(esc) == [{"channel": "email:1", "state": "delivered", "attempts": 2,
                                "last_error": None, "next_attempt_at": None}]


def test_a_server_that_never_greets_costs_one_timeout(esc, tmp_path, smtp):
    # a socket that listens and never accepts: the kernel completes the connection and
    # the greeting never comes
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        load_email(esc, tmp_path, port=port, to="ops@example.com", timeout="2s")
        for title in ("A", "B", "C"):
            esc.ok("open", title, "--customer", "C", "--priority", "urgent")
        started = time.monotonic()
        result = esc.ok("sweep", now="2026-11-02T10:12:00Z")
        elapsed = time.monotonic() - started
    # three notifications, one channel that fails once in a run: one timeout (2s), not
    # three (6s); the bound leaves room for a loaded machine
    assert 1.9 <= elapsed < 2 + 3.5, elapsed
    # one tried and failed, two left for the next run: not counted as failures
    assert "3 notified (1 failed, 2 not tried: email:1 down)" in result.out
    errors = {d["last_error"] for d in deliveries(esc) if d["attempts"]}
    assert errors == {f"127.0.0.1:{port}: timed out after 2s"}


def test_a_server_that_hangs_mid_message_is_retried_and_delivers(esc, tmp_path, smtp):
    box = smtp.start()
    box.hang = True
    load_email(esc, tmp_path, port=box.port, to="ops@example.com", timeout="1s")
    esc.ok("open", "A", "--customer", "C", "--priority", "urgent")

    started = time.monotonic()
    esc.ok("sweep", now="2026-11-02T10:12:00Z")
    elapsed = time.monotonic() - started
    # connect, EHLO, MAIL, RCPT and DATA all share the one second (generous bound: the
    # machine may be loaded; a timeout per step or per retry would still show)
    assert 0.9 <= elapsed < 1 + 4, elapsed
    [delivery] = deliveries(esc)
    assert delivery["state"] == "failed"
    assert delivery["last_error"] == f"127.0.0.1:{box.port}: timed out after 1s"
    assert delivery["next_attempt_at"] == "2026-11-02T10:13:00Z"

    smtp.unhang(box)
    esc.ok("sweep", now="2026-11-02T10:13:00Z")
    assert len(box.messages) == 1
    assert deliveries(esc)[0]["state"] == "delivered"


# -- TLS and login ---------------------------------------------------------------------------

def test_starttls_and_login_with_the_password_from_the_environment(esc, tmp_path, smtp,
                                                                   certificate):
    cert, context = certificate
    box = smtp.start(starttls=context, auth=True)
    load_email(esc, tmp_path, port=box.port, to="ops@example.com", security="starttls",
               cafile=str(cert), username=USER, password_env="ESC_TEST_SMTP_PASSWORD")
    esc.ok("open", "A", "--customer", "C", "--priority", "urgent")
    esc.ok("sweep", now="2026-11-02T10:12:00Z", env={"ESC_TEST_SMTP_PASSWORD": PASSWORD})

    assert box.logins == [(USER, PASSWORD)]
    assert len(box.messages) == 1
    assert deliveries(esc)[0]["state"] == "delivered"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls(esc, tmp_path, smtp, certificate):
    cert, context = certificate
    box = smtp.start(implicit_tls=context, auth=True)
    load_email(esc, tmp_path, port=box.port, to="ops@example.com", security="ssl",
               cafile=str(cert), username=USER, password_env="ESC_TEST_SMTP_PASSWORD")
    esc.ok("open", "A", "--customer", "C", "--priority", "urgent")
    esc.ok("sweep", now="2026-11-02T10:12:00Z", env={"ESC_TEST_SMTP_PASSWORD": PASSWORD})

    assert box.logins == [(USER, PASSWORD)]
    assert len(box.messages) == 1


def test_an_untrusted_certificate_is_refused(esc, tmp_path, smtp, certificate):
    _, context = certificate
    box = smtp.start(starttls=context)
    load_email(esc, tmp_path, port=box.port, to="ops@example.com", security="starttls")
    esc.ok("open", "A", "--customer", "C", "--priority", "urgent")
    esc.ok("sweep", now="2026-11-02T10:12:00Z")

    assert box.messages == []
    [delivery] = deliveries(esc)
    assert delivery["state"] == "failed"
    assert "TLS failed: CERTIFICATE_VERIFY_FAILED" in delivery["last_error"]


def test_starttls_required_but_not_offered(esc, tmp_path, smtp):
    box = smtp.start()  # no TLS context: the server does not advertise STARTTLS
    load_email(esc, tmp_path, port=box.port, to="ops@example.com", security="starttls")
    esc.ok("open", "A", "--customer", "C", "--priority", "urgent")
    esc.ok("sweep", now="2026-11-02T10:12:00Z")

    assert box.messages == []
    assert deliveries(esc)[0]["last_error"] == (
        f'127.0.0.1:{box.port} does not offer STARTTLS (security = "starttls")')


def test_missing_password_variable_fails_the_delivery(esc, tmp_path, smtp, certificate,
                                                      monkeypatch):
    cert, context = certificate
    monkeypatch.delenv("ESC_TEST_SMTP_PASSWORD", raising=False)
    box = smtp.start(starttls=context, auth=True)
    load_email(esc, tmp_path, port=box.port, to="ops@example.com", security="starttls",
               cafile=str(cert), username=USER, password_env="ESC_TEST_SMTP_PASSWORD")
    esc.ok("open", "A", "--customer", "C", "--priority", "urgent")
    esc.ok("sweep", now="2026-11-02T10:12:00Z")

    assert box.logins == [] and box.messages == []
    assert deliveries(esc)[0]["last_error"] == (
        f"environment variable ESC_TEST_SMTP_PASSWORD is not set (the SMTP password for {USER})")


# -- the password is never shown or stored ------------------------------------------------

def test_the_password_never_appears_in_any_output(esc, tmp_path, smtp, certificate,
                                                              monkeypatch):
    from tests.test_secrets import _terminal

    cert, context = certificate
    monkeypatch.setenv("ESC_TEST_SMTP_PASSWORD", PASSWORD)
    box = smtp.start(starttls=context, auth=True)
    box.echo_password = True
    load_email(esc, tmp_path, port=box.port, to="ops@example.com", security="starttls",
               cafile=str(cert), username=USER, password_env="ESC_TEST_SMTP_PASSWORD")
    esc.ok("open", "A", "--customer", "C", "--priority", "urgent")

    seen = []
    for args in (("sweep",), ("--json", "sweep"), ("notify", "list"), ("--json", "notify", "list"),
                 ("notify", "retry"), ("--json", "notify", "retry"), ("doctor",),
                 ("--json", "doctor"), ("policy", "show"), ("--json", "policy", "show"),
                 ("policy", "export")):
        if args[0] == "--json":
            result = esc(*args[1:], "--json", now="2026-11-02T10:20:00Z")
        else:
            result = esc(*args, now="2026-11-02T10:20:00Z")
        seen.append(result.out + result.err)
    seen.append(_terminal(esc, "policy", "show"))
    seen.append(_terminal(esc, "notify", "list"))

    # the server did get it (so it really was used), and refused with it in its answer
    assert box.logins and box.logins[-1] == (USER, PASSWORD)
    [delivery] = deliveries(esc)
    assert delivery["state"] == "failed"
    assert delivery["last_error"] == f"127.0.0.1:{box.port}: SMTP 535 5.7.8 bad password ****"
    for text in seen:
        assert PASSWORD not in text
    assert 'password_env = "ESC_TEST_SMTP_PASSWORD"' in seen[-3]  # export reloads


@pytest.mark.sqlite_only("reads every byte of the SQLite file")
def test_the_password_is_in_no_byte_of_the_sqlite_file(esc, tmp_path, smtp, certificate, monkeypatch):
    cert, context = certificate
    monkeypatch.setenv("ESC_TEST_SMTP_PASSWORD", PASSWORD)
    box = smtp.start(starttls=context, auth=True)
    box.echo_password = True  # a refusal that repeats it: the stored error is masked
    load_email(esc, tmp_path, port=box.port, to="ops@example.com", security="starttls",
               cafile=str(cert), username=USER, password_env="ESC_TEST_SMTP_PASSWORD")
    esc.ok("open", "A", "--customer", "C", "--priority", "urgent")
    esc.ok("sweep", now="2026-11-02T10:12:00Z")
    box.echo_password = False
    esc.ok("sweep", now="2026-11-02T10:13:00Z")
    assert box.logins[-1] == (USER, PASSWORD) and len(box.messages) == 1

    for path in tmp_path.iterdir():
        if path.name.startswith("esc.db"):
            assert PASSWORD.encode() not in path.read_bytes()
    import sqlite3

    with sqlite3.connect(esc.db) as conn:
        assert not any(PASSWORD in line for line in conn.iterdump())
