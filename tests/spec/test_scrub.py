"""The one scrubber: what it blanks and what it escapes, as a reader of the output sees it."""

from __future__ import annotations

import json

from provisioner.spec.scrub import Scrubber, escape_controls, secret_values, strip_userinfo


def test_control_characters_are_shown_escaped_newline_and_tab_kept() -> None:
    text = "a\x1b[2Jb\x07c\x9bd\x7fe\x00f\n\tg"
    assert escape_controls(text) == "a\\x1b[2Jb\\x07c\\x9bd\\x7fe\\x00f\n\tg"


def test_url_userinfo_is_blanked_and_the_host_kept() -> None:
    text = "cannot reach https://AKIA:s3cr/t@minio.example:9000/bucket, nor http://h/x@y"
    assert strip_userinfo(text) == (
        "cannot reach https://***@minio.example:9000/bucket, nor http://h/x@y"
    )


def test_values_of_named_and_secret_looking_variables_are_in_play() -> None:
    environ = {
        "DB_PASS": "pg-pass-1234",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI",
        "SOME_KEY_ON": "true",  # too short to blank for its name alone
        "HOME": "/home/user",
    }
    values = secret_values(environ, ["DB_PASS", "UNSET"])
    assert values == {"pg-pass-1234", "wJalrXUtnFEMI"}


def test_a_value_containing_another_is_blanked_whole() -> None:
    scrubber = Scrubber().with_values(["abcd", "abcd-efgh-ijkl"])
    assert scrubber.secrets("x abcd-efgh-ijkl y abcd") == "x *** y ***"


def test_a_value_known_only_by_its_fingerprint_is_blanked() -> None:
    scrubber = Scrubber(fingerprinted=lambda word: word == "old-value-42")
    answer = '{"generated_text": "key=old-value-42; \\"old-value-42\\" hf_abcdefghijkl"}'
    assert scrubber.secrets(answer) == '{"generated_text": "key=***; \\"***\\" hf_***"}'


def test_json_keeps_parsing_once_scrubbed() -> None:
    document = json.dumps({"message": "bad \x1b[31m\x85 topsecret"}, ensure_ascii=False)
    shown = Scrubber().with_values(["topsecret"]).outside_json(document)
    assert "\x1b" not in shown and "\x85" not in shown
    assert json.loads(shown) == {"message": "bad \x1b[31m\x85 ***"}
