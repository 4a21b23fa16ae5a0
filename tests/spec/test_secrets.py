"""The one definition of "looks secret": precise for warnings and plans, loose for logs."""

from __future__ import annotations

from provisioner.spec.secrets import looks_secret, redact, scrub_tokens


def test_looks_secret_matches_whole_words_or_a_token_value() -> None:
    assert looks_secret("OPENAI_API_KEY", "x")
    assert looks_secret("DB_PASSWORD", "x")
    assert looks_secret("PLAIN", "hf_" + "a" * 20)
    assert not looks_secret("MAX_TOTAL_TOKENS", "4096")  # a TGI setting, not a secret


def test_redact_blanks_tokens_and_values_of_secretish_variables() -> None:
    environ = {
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "MY_CREDENTIALS": "s3cr3t-value",
        "SHORT_TOKEN": "abc",  # too short to blank without wrecking the log
        "EDITOR": "vim-tiny",
    }
    text = "AKIAEXAMPLE s3cr3t-value abc vim-tiny hf_abcdef123"
    assert redact(text, environ) == "*** *** abc vim-tiny hf_***"


def test_scrub_tokens_leaves_other_text_alone() -> None:
    assert scrub_tokens("token hf_abcdefgh in a message") == "token hf_*** in a message"
    assert scrub_tokens("hf_abc is too short") == "hf_abc is too short"
