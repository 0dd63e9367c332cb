"""What of a console may leave the deploy service: secrets masked with what names them kept, ordinary lines as
they were (issue 22.3)."""

from __future__ import annotations

import time

import pytest

from services.deploy.console import MAX_CHARACTERS, mask_secrets, shown_tail

MASKED = [
    ("password=hunter2", "password=****"),
    ("TOKEN: abc123", "TOKEN: ****"),
    ("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS_SECRET_ACCESS_KEY=****"),
    ("+ export DB_PASSWORD='s3cr3t value'", "+ export DB_PASSWORD='****'"),
    ("+ mvn deploy -Ddb.passwd=abc -Dskip=true", "+ mvn deploy -Ddb.passwd=**** -Dskip=true"),
    ("SLACK_API_KEY=abc GITHUB_APIKEY=def", "SLACK_API_KEY=**** GITHUB_APIKEY=****"),
    ("db_pwd=abc", "db_pwd=****"),
    ("GCP_PRIVATE_KEY=abc", "GCP_PRIVATE_KEY=****"),
    ("Credentials: admin/admin", "Credentials: ****"),
    ("vault_client_secret = abc", "vault_client_secret = ****"),
    ('{"client_secret": "abc", "user": "bob"}', '{"client_secret": "****", "user": "bob"}'),
    ('{"password":"abc","user":"bob"}', '{"password":"****","user":"bob"}'),
    ("{'api_token' => 'abc'}", "{'api_token' => '****'}"),
    ("+ curl -H 'X-Api-Key: abc123' https://api.example.com", "+ curl -H 'X-Api-Key: ****' https://api.example.com"),
    (
        "GET https://api.example.com/v1?access_token=abc&page=2",
        "GET https://api.example.com/v1?access_token=****&page=2",
    ),
    (
        "git clone https://deployer:s3cr3t@git.example.com/acme/app.git",
        "git clone https://deployer:****@git.example.com/acme/app.git",
    ),
    (
        "DATABASE_URL=postgres://app:p@ss@db.internal:5432/orders",
        "DATABASE_URL=postgres://app:****@db.internal:5432/orders",
    ),
    ("> Authorization: Bearer abc.def-123", "> Authorization: Bearer ****"),
    ("> Authorization: Basic dXNlcjpwYXNz", "> Authorization: Basic ****"),
    ('curl -H "authorization: token 0123456789abcdef"', 'curl -H "authorization: token ****"'),
    ("retrying with Bearer 1a2b3c4d5e6f7g8h", "retrying with Bearer ****"),
    ("posting as xoxb-1234567890-1234567890-abcdefABCDEF", "posting as xoxb-****"),
    ("user token xoxp-1234567890-abcdef", "user token xoxp-****"),
    ("pushing with ghp_abcdefghijklmnopqrstuvwxyz0123456789", "pushing with ghp_****"),
    ("pushing with github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "pushing with github_pat_****"),
    ("uploading as AKIAIOSFODNN7EXAMPLE to s3://builds", "uploading as AKIA**** to s3://builds"),
    ("session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r", "session ****"),
    ("\x1b[31mERROR\x1b[0m token=abc", "\x1b[31mERROR\x1b[0m token=****"),
    ("+ deploy --password hunter2 --env prod", "+ deploy --password **** --env prod"),
    ('+ mysql -u root --db-password "s3 cret" orders', '+ mysql -u root --db-password "****" orders'),
    ("+ vault login --api-key abc123 --secret-id=xyz", "+ vault login --api-key **** --secret-id=****"),
]

UNTOUCHED = [
    "Started by user slashops",
    "Checking out Revision 3f786850e387550fdab836ed7e6dc881de23001b (origin/feature/rotate-password)",
    "HEAD is now at 3f786850e387550fdab836ed7e6dc881de23001b",
    "BRANCH=feature/token-refresh",
    "Build #42 of deploy-acme finished: FAILURE",
    "ERROR: could not refresh token: connection refused",
    'FATAL: password authentication failed for user "app"',
    "Masking supported pattern matches of $PASSWORD or $DEPLOY_TOKEN",
    "PASSWORD=****",
    "PWD=/var/lib/jenkins/workspace/deploy-acme",
    "http://localhost:8080/job/deploy-acme/42/console",
    "git@github.com:acme/app.git",
    "Using Basic authentication against the registry",
    '[2025-11-28T12:00:00.000Z] ERROR: migration 0042 failed: relation "orders" is locked',
    "Finished: FAILURE",
    "+ ./migrate --no-password --force",
    "echo password reset done",
]


@pytest.mark.parametrize(("line", "masked"), MASKED, ids=[line for line, _ in MASKED])
def test_a_secret_is_masked_and_what_names_it_kept(line: str, masked: str) -> None:
    assert mask_secrets(line) == masked


@pytest.mark.parametrize("line", UNTOUCHED)
def test_an_ordinary_line_is_left_as_it_is(line: str) -> None:
    assert mask_secrets(line) == line


def test_a_private_key_is_masked_between_its_begin_and_end_lines() -> None:
    key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nq1w2e3r4==\n-----END RSA PRIVATE KEY-----"
    console = f"writing key\n{key}\ndone"

    assert (
        mask_secrets(console)
        == "writing key\n-----BEGIN RSA PRIVATE KEY-----\n****\n-----END RSA PRIVATE KEY-----\ndone"
    )


def test_a_tail_that_starts_or_ends_inside_a_private_key_masks_that_part() -> None:
    starts_inside = "MIIEpAIBAAKCAQEA\nq1w2e3r4==\n-----END PRIVATE KEY-----\nERROR: bad key"
    ends_inside = "writing key\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA\nAAAA"

    assert mask_secrets(starts_inside) == "****\n-----END PRIVATE KEY-----\nERROR: bad key"
    assert mask_secrets(ends_inside) == "writing key\n-----BEGIN OPENSSH PRIVATE KEY-----\n****"


def test_a_private_key_on_one_line_is_masked() -> None:
    line = '{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBg\\n-----END PRIVATE KEY-----\\n", "id": 7}'

    masked = mask_secrets(line)

    assert "MIIE" not in masked and masked.endswith('"id": 7}')


def test_several_secrets_on_several_lines_are_all_masked() -> None:
    console = "\n".join(line for line, _ in MASKED)

    assert mask_secrets(console) == "\n".join(masked for _, masked in MASKED)


def test_the_shown_tail_drops_terminal_codes_and_keeps_its_end_masked_before_the_cut() -> None:
    console = (
        "\x1b[8mha:AAAAWB+LCAAA\x1b[0m\x1b[1mPASSWORD=\x1b[0mhunter2\n" + "x" * (2 * MAX_CHARACTERS) + "\nERROR: end"
    )

    shown = shown_tail(console)

    assert len(shown) == MAX_CHARACTERS and shown.startswith("…") and shown.endswith("ERROR: end")
    assert "\x1b" not in shown_tail("\x1b[31mERROR\x1b[0m PASSWORD=\x1b[1mhunter2\x1b[0m")
    assert shown_tail("\x1b[31mERROR\x1b[0m PASSWORD=\x1b[1mhunter2\x1b[0m") == "ERROR PASSWORD=****"


def test_masking_a_long_console_stays_fast() -> None:
    """A 30-line tail can be megabytes (one line of minified output): masking must not backtrack on it."""
    console = "\n".join(["a" * 200_000, "token" * 40_000, "=" * 100_000, "x-" * 100_000, "password: " * 20_000])

    started = time.perf_counter()
    mask_secrets(console)

    assert time.perf_counter() - started < 5  # backtracking would take minutes
