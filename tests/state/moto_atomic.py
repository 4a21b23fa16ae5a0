"""Make moto's conditional writes atomic, as S3's are.

moto 5.2.5 checks `If-Match` / `If-None-Match` and then stores the object as two steps with no
lock between them (`S3Response.put_object`, `delete_object`), so two racing conditional PUTs can
both succeed there, which real S3 never allows (the loser gets 412, or 409
ConditionalRequestConflict). A GET racing with a PUT can also read the value moto is replacing
(its buffer closed under it: "I/O operation on closed file"). The concurrency tests of the
contract suite would then fail on the fake, not on provisioner. This wraps those handlers in
one lock: in process for `mock_aws`, and in the moto server process through `moto_server.py`.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from moto.s3.responses import S3Response

_LOCK = threading.RLock()
_PATCHED = "_provisioner_atomic"


def patch() -> None:
    for name in ("put_object", "delete_object", "get_object", "head_object"):
        original = getattr(S3Response, name)
        if getattr(original, _PATCHED, False):
            continue

        @functools.wraps(original)
        def atomic(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with _LOCK:
                return _original(self, *args, **kwargs)

        setattr(atomic, _PATCHED, True)
        setattr(S3Response, name, atomic)
