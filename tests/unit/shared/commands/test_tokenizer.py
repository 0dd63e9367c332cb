from __future__ import annotations

import shlex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.commands.tokenizer import normalize, split_words, tokenize
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


_SHELLISH = st.text(alphabet=st.sampled_from(list("ab-=/ \t\r\n\x0b\x0c\x00é\u2028\u00a0")), max_size=40)


@settings(max_examples=400)
@given(text=st.one_of(_SHELLISH, st.text(max_size=40)))
def test_split_words_splits_exactly_as_shlex_does(text: str) -> None:
    """The fast path (no quote, no backslash) and shlex agree on every text, including odd whitespace."""
    try:
        expected: list[str] | None = shlex.split(text, comments=False, posix=True)
    except ValueError:
        expected = None
    if expected is None:
        with pytest.raises(UsageError):
            split_words(text)
    else:
        assert split_words(text) == expected


def _normalize_every_step(text: str) -> str:
    """`normalize` without its shortcuts: every step on every text."""
    from shared.commands import tokenizer as t

    text = text.translate(t._DOUBLE_QUOTES).translate(t._SINGLE_QUOTES).translate(t._SPACES).translate(t._INVISIBLE)
    text = t._DASH_OPTION.sub(r"\1--", text)
    text = t._SLACK_ESCAPE.sub(t._unescape_reference, text)
    for entity, character in t._ENTITIES:
        text = text.replace(entity, character)
    return text.strip()


@settings(max_examples=400)
@given(
    text=st.one_of(
        st.text(max_size=40),
        st.text(alphabet=st.sampled_from(list("ab -<>@#!|&;amplgt\u2014\u201c\u00a0\u200b")), max_size=40),
    )
)
def test_normalize_skips_only_steps_that_cannot_change_the_text(text: str) -> None:
    assert normalize(text) == _normalize_every_step(text)
