"""A failed or aborted deploy as its thread reads it: the console tail escaped, in a code block within Slack's limits,
with the link to the full log (issue 22.3). The deploy runs on the in-memory ports; the notifier renders its event."""

from __future__ import annotations

from services.deploy.errors import JenkinsUnavailableError
from services.notifier.messages import OUTPUT_LIMIT, thread_reply
from shared.events.models import CommandCancelled, CommandFailed, ResultEvent
from shared.slack.blocks import SECTION_LIMIT
from tests.support.deploy import MemoryDeploy, requested, start_deploy
from tests.support.mrkdwn import check_message, texts

FULL_LOG = "<http://jenkins.test/job/deploy-acme/1/console|Full log>"


def _final(result: str, console: str) -> ResultEvent:
    deploy = MemoryDeploy()
    deploy.jenkins.result, deploy.jenkins.console = result, console
    start_deploy(requested(), deploy.deps)
    deploy.follow_all()
    return deploy.publisher.events[-1]


def _code(body_texts: list[str]) -> str:
    [block] = [text for text in body_texts if text.startswith("```")]
    return block


def test_the_tail_is_escaped_in_its_code_block_and_cannot_notify_or_end_the_block() -> None:
    console = (
        "Deploying...\n<!channel> ping <@U0EVIL> & <https://evil.example|click>\n```\n*not bold* `x`\nERROR: failed"
    )
    event = _final("FAILURE", console)

    message = thread_reply(event)

    body = check_message(message)  # every `<` a real reference, every `&` an entity
    code = _code(texts(message.payload()))
    assert "&lt;!channel&gt; ping &lt;@U0EVIL&gt; &amp; &lt;https://evil.example|click&gt;" in code
    assert code.count("```") == 2 and code.startswith("```Deploying...") and code.endswith("ERROR: failed```")
    assert "\u02cb\u02cb\u02cb" in code and "\u02cbx\u02cb" in code
    assert "<!channel>" not in body and "<@U0EVIL>" not in body
    assert FULL_LOG in body


def test_a_tail_of_long_lines_stays_within_slacks_limits_and_keeps_its_last_lines() -> None:
    lines = [f"line {n} " + "<&>" * 100 for n in range(1, 40)] + ["ERROR: migration 0042 failed"]
    event = _final("FAILURE", "\n".join(lines))
    assert isinstance(event, CommandFailed) and len(event.output.splitlines()) == 30

    message = thread_reply(event)

    check_message(message)
    body_texts = texts(message.payload())
    assert all(len(text) <= SECTION_LIMIT for text in body_texts)
    code = _code(body_texts)
    assert code.startswith("```…") and code.endswith("ERROR: migration 0042 failed```")
    assert "line 10 " not in code and "line 39 " in code
    note = next(text for text in body_texts if text.startswith("Output cut"))
    assert f"the last {OUTPUT_LIMIT:,} of" in note and FULL_LOG in note


def test_an_aborted_builds_thread_reply_shows_its_tail() -> None:
    event = _final("ABORTED", "Deploying...\nSending interrupt signal to process\nAborted by admin")
    assert isinstance(event, CommandCancelled)

    body = check_message(thread_reply(event))

    assert "was cancelled" in body and "Aborted by admin```" in body and FULL_LOG in body


def test_a_console_jenkins_cannot_return_leaves_the_result_and_the_links() -> None:
    deploy = MemoryDeploy()
    deploy.jenkins.result = "FAILURE"
    deploy.jenkins.fail("console_tail", lambda: JenkinsUnavailableError("HTTP 502"), times=None)
    start_deploy(requested(), deploy.deps)
    deploy.follow_all()

    body = check_message(thread_reply(deploy.publisher.events[-1]))

    assert "*failed*" in body and "finished with FAILURE" in body and "```" not in body
    assert "<http://jenkins.test/job/deploy-acme/1/|Build #1>" in body and FULL_LOG in body
