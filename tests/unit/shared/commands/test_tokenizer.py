from __future__ import annotations

import pytest

from shared.commands.tokenizer import normalize, tokenize
from shared.errors import UsageError


@pytest.mark.parametrize(
    ("typed", "tokens"),
    [
        ("deploy --client acme --branch main", ["deploy", "--client", "acme", "--branch", "main"]),
        ("deploy --client=acme", ["deploy", "--client=acme"]),
        ("deploy \u2014client acme \u2014branch main", ["deploy", "--client", "acme", "--branch", "main"]),
        ("deploy \u2013client acme", ["deploy", "--client", "acme"]),
        ("deploy \u2014-client acme", ["deploy", "--client", "acme"]),
        ("say \u201ctwo words\u201d", ["say", "two words"]),
        ("say \u2018it is\u2019", ["say", "it is"]),
        ("deploy\u00a0--client\u00a0acme", ["deploy", "--client", "acme"]),
        ("history --user <@U024BE7LH|bob>", ["history", "--user", "U024BE7LH"]),
        ("history --user <@U024BE7LH>", ["history", "--user", "U024BE7LH"]),
        ("post --channel <#C024BE7LR|general>", ["post", "--channel", "C024BE7LR"]),
        ("open <https://example.com/a?b=1&amp;c=2|the link>", ["open", "https://example.com/a?b=1&c=2"]),
        ("deploy --branch feature/x-y", ["deploy", "--branch", "feature/x-y"]),
        ("  ", []),
        ("say 'a \"b\" c'", ["say", 'a "b" c']),
    ],
)
def test_tokenize_undoes_what_slack_clients_do(typed: str, tokens: list[str]) -> None:
    assert tokenize(typed) == tokens


def test_hyphens_inside_words_are_untouched() -> None:
    assert normalize("deploy --branch fix\u2014typo") == "deploy --branch fix\u2014typo"


def test_unbalanced_quote_is_a_usage_error_with_a_hint() -> None:
    with pytest.raises(UsageError) as caught:
        tokenize('deploy --client "acme')
    assert "quote" in (caught.value.hint or "")
