"""An S3 answer lost after the store wrote the object (a connection reset on the way back):
botocore sends the request again, and that one fails its own condition (`If-None-Match` for a
history record, `If-Match` for the state). An apply whose state and history were both written
says so and exits 0: the object holding exactly the bytes sent is that first write.

The loss is botocore's own retry decision (`needs-retry`), made once for each of the state and
a history record after the moto server answered 200: the request is sent again as it would be
after a reset, against a store that already holds the first one's object."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from provisioner.emulator import Emulator
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import live, write_spec
from tests.support.cli import run


def test_an_apply_whose_write_answers_were_lost_reports_what_happened(
    tmp_path: Path,
    moto_server: str,
    boto_session: Any,
    emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bucket = "lost-answers"
    s3 = boto_session.client("s3", endpoint_url=moto_server)
    s3.create_bucket(Bucket=bucket)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    specs = tmp_path / "endpoints"
    write_spec(specs, "alpha", namespace="acme")
    (specs / "_settings.yaml").write_text(f"stack: team\nbackend: s3://{bucket}/state\n")
    lost: list[str] = []

    def resend(response: Any = None, request_dict: Any = None, **_: Any) -> float | None:
        path = str((request_dict or {}).get("url_path", ""))
        written = response is not None and response[0].status_code == 200
        for kind in ("state.json", "/history/"):
            if written and kind in path and kind not in lost:
                lost.append(kind)
                return 0.0  # "the answer was lost": botocore sends it again
        return None

    real = boto3.session.Session

    def session(*args: Any, **kwargs: Any) -> Any:
        made = real(*args, **kwargs)
        made.events.register_first("needs-retry.s3.PutObject", resend)
        return made

    monkeypatch.setattr(boto3.session, "Session", session)
    applied = run(
        capsys, "apply", "--dir", str(specs), "--auto-approve", context=context_for(emulator)
    )
    assert lost == ["state.json", "/history/"]  # both answers were lost, both resent
    assert applied.code == 0, applied.text
    assert "could not be written" not in applied.text
    assert "alpha" in live(emulator)
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="state/team/history/")["Contents"]
    assert len(listed) == 1  # one record, not two
    state = json.loads(s3.get_object(Bucket=bucket, Key="state/team/state.json")["Body"].read())
    assert state["serial"] == 1 and "acme/alpha" in state["endpoints"]
