"""The S3 backend: a stack's objects under `s3://bucket/<prefix>/`, its lock an object created once.

Conditional writes do the work: create-if-absent is `PutObject` with `If-None-Match: *`, replace is
`PutObject` with `If-Match: <ETag>`; S3 answers 412 (or 409 when two conditional writes race) to
the loser, which becomes `WriteConflict`. The lock is `lock.json`, created with `If-None-Match: *`
and deleted with `If-Match` on its ETag, so a release can never delete a lock someone else took
meanwhile. S3 does not know when a holder dies: a killed holder's lock stays until
`force_unlock` with its id. The store must support conditional writes (AWS S3 does since 2024, and
moto); an S3-compatible store that ignored the headers would let two writers both win.

boto3 is optional (`pip install 'hf-endpoints-provisioner[s3]'`) and imported when an S3 backend
is opened.
Credentials, region and endpoint come from the arguments when given, else from boto3's own
resolution (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, ~/.aws/config, instance roles...).
Transient failures are retried by botocore's "standard" retry mode (AWS_MAX_ATTEMPTS applies).

Rule: every botocore failure leaves this module as `BackendError` naming the location and what a
person can do; no message carries object contents or credentials.
"""

from __future__ import annotations

import contextlib
from typing import Any

from provisioner.spec.scrub import strip_userinfo
from provisioner.state.backend import BackendError, Blob, LockHeld, LockInfo, WriteConflict
from provisioner.state.keys import check_key, check_prefix

_RECORD = "lock.json"
_CONFLICT_CODES = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})
_DENIED_CODES = frozenset({"AccessDenied", "AllAccessDisabled", "Forbidden"})
_CREDENTIAL_CODES = frozenset(
    {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
        "TokenRefreshRequired",
        "InvalidClientTokenId",
    }
)
_REGION_CODES = frozenset(
    {"PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"}
)
# What a store answers when it does not know conditional deletes (older S3-compatible stores).
_UNSUPPORTED_CODES = frozenset({"NotImplemented", "InvalidArgument", "InvalidRequest"})
_INSTALL = "the S3 backend needs boto3: pip install 'hf-endpoints-provisioner[s3]'"


class _Answer(Exception):
    """S3 answered with an error (a botocore `ClientError`), reduced to what decisions need."""

    def __init__(self, original: Exception) -> None:
        response: Any = getattr(original, "response", {}) or {}
        self.code = str(response.get("Error", {}).get("Code", ""))
        self.status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        self.original = original

    @property
    def conflict(self) -> bool:
        return self.code in _CONFLICT_CODES or self.status == 412


class S3Backend:
    """One stack's objects under `prefix` in `bucket` (`prefix` may be empty: the bucket's root)."""

    def __init__(
        self,
        bucket: str,
        prefix: str,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        session: Any = None,
    ) -> None:
        """`session`: the `boto3.Session` to make the client from, when several backends should
        share one (its credentials, and a client in milliseconds instead of ~0.2 s); by default
        a new one, resolving everything from the environment."""
        self._bucket = bucket
        self._prefix = prefix.strip("/")
        # The lock ids this instance took: like a local lock, only its taker releases it (others
        # use `force_unlock`), even though S3 itself knows nothing of processes.
        self._taken: set[str] = set()
        try:
            import boto3
            import botocore.config
            import botocore.exceptions
        except ImportError:
            raise BackendError(_INSTALL) from None
        self._errors: Any = botocore.exceptions
        try:
            self._client: Any = (session or boto3.session.Session()).client(
                "s3",
                region_name=region,
                endpoint_url=endpoint_url,
                config=botocore.config.Config(retries={"mode": "standard"}),
            )
        except self._errors.BotoCoreError as e:
            raise self._unusable(e, "opening the S3 client") from e
        except ValueError as e:  # botocore's word for an endpoint URL it cannot parse
            shown = strip_userinfo(repr(endpoint_url))
            raise BackendError(
                f"{self.location}: the endpoint URL {shown} is not a URL "
                "(http://host:port or https://...)"
            ) from e

    @property
    def location(self) -> str:
        return f"s3://{self._bucket}/{self._prefix}" if self._prefix else f"s3://{self._bucket}"

    # -- objects --------------------------------------------------------------------------------

    def read(self, key: str) -> Blob | None:
        return self._get(self._full(check_key(key)), what=key)

    def write(self, key: str, data: bytes, *, replaces: str | None) -> str:
        check_key(key)
        return self._put(self._full(key), data, replaces=replaces, what=key)

    def delete(self, key: str) -> None:
        check_key(key)
        try:
            self._call("delete_object", f"deleting {key}", Key=self._full(key))
        except _Answer as a:
            if a.code != "NoSuchKey":
                raise self._refused(a, f"deleting {key}") from a.original

    def keys(self, prefix: str) -> list[str]:
        check_prefix(prefix)
        base = self._full("")
        found: list[str] = []
        token: str | None = None
        while True:
            more = {"ContinuationToken": token} if token else {}
            try:
                page = self._call("list_objects_v2", "listing keys", Prefix=base + prefix, **more)
            except _Answer as a:
                raise self._refused(a, "listing keys") from a.original
            for item in page.get("Contents", []):
                key = str(item["Key"])[len(base) :]
                try:
                    check_key(key)
                except ValueError:
                    continue  # not one of ours (the lock record, a hand-made object, `a//b`)
                found.append(key)
            if not page.get("IsTruncated"):
                return sorted(found)
            token = str(page["NextContinuationToken"])

    # -- the stack lock -------------------------------------------------------------------------

    def acquire(self, info: LockInfo) -> None:
        record = self._full(_RECORD)
        # A few rounds only for the lock being released between our create and our read.
        for _ in range(3):
            try:
                self._put(record, info.to_json(), replaces=None, what="the lock")
                self._taken.add(info.id)
                return
            except WriteConflict:
                pass
            blob = self._get(record, what="the lock")
            if blob is None:
                continue
            holder = LockInfo.from_json(blob.data)
            if holder is not None and holder.id == info.id:
                # Our own create landed but its answer was lost, and botocore's retry lost
                # the race against it: the lock is ours.
                self._taken.add(info.id)
                return
            raise LockHeld(self.location, holder)
        raise LockHeld(self.location, None)

    def release(self, lock_id: str) -> None:
        if lock_id not in self._taken:
            return
        self._taken.discard(lock_id)
        record = self._full(_RECORD)
        blob = self._get(record, what="the lock")
        if blob is None:
            return
        holder = LockInfo.from_json(blob.data)
        if holder is None or holder.id != lock_id:
            return
        with contextlib.suppress(WriteConflict):  # someone else holds it now: not ours
            self._delete_if(record, blob.version, what="the lock")

    def holder(self) -> LockInfo | None:
        blob = self._get(self._full(_RECORD), what="the lock")
        if blob is None:
            return None
        info = LockInfo.from_json(blob.data)
        if info is None:
            raise LockHeld(self.location, None)
        return info

    def force_unlock(self, lock_id: str) -> LockInfo:
        record = self._full(_RECORD)
        blob = self._get(record, what="the lock")
        if blob is None:
            raise BackendError(f"the state lock at {self.location} is not held; nothing to unlock")
        holder = LockInfo.from_json(blob.data)
        if holder is None:
            raise BackendError(
                f"the state lock at {self.location} is held but its record ({_RECORD}) cannot be "
                f"read; if no provisioner is running on this stack, delete s3://{self._bucket}/"
                f"{record} by hand"
            )
        if holder.id != lock_id:
            raise BackendError(
                f"the state lock at {self.location} is held under id {holder.id}, not {lock_id} "
                f"(by {holder.who} on {holder.host}, process {holder.pid}, {holder.operation}, "
                f"since {holder.created}); nothing was unlocked"
            )
        try:
            self._delete_if(record, blob.version, what="the lock")
        except WriteConflict:
            raise BackendError(
                f"the state lock at {self.location} changed while it was being unlocked; "
                "look at it again"
            ) from None
        return holder

    # -- requests -------------------------------------------------------------------------------

    def _full(self, key: str) -> str:
        return f"{self._prefix}/{key}" if self._prefix else key

    def _call(self, operation: str, doing: str, **kwargs: Any) -> Any:
        """One request; an error answer becomes `_Answer`, any other failure `BackendError`."""
        try:
            return getattr(self._client, operation)(Bucket=self._bucket, **kwargs)
        except self._errors.ClientError as e:
            raise _Answer(e) from e
        except self._errors.BotoCoreError as e:
            raise self._unusable(e, doing) from e

    def _get(self, full_key: str, *, what: str) -> Blob | None:
        try:
            answer = self._call("get_object", f"reading {what}", Key=full_key)
            data = answer["Body"].read()
        except _Answer as a:
            if a.code == "NoSuchKey":
                return None
            raise self._refused(a, f"reading {what}") from a.original
        except self._errors.BotoCoreError as e:  # the body's stream broke off
            raise self._unusable(e, f"reading {what}") from e
        return Blob(data=bytes(data), version=str(answer["ETag"]))

    def _put(self, full_key: str, data: bytes, *, replaces: str | None, what: str) -> str:
        condition = {"IfNoneMatch": "*"} if replaces is None else {"IfMatch": replaces}
        try:
            answer = self._call(
                "put_object", f"writing {what}", Key=full_key, Body=data, **condition
            )
        except _Answer as a:
            if a.conflict:
                verb = "already exists" if replaces is None else "changed since it was read"
                raise WriteConflict(f"{what} in {self.location} {verb}") from a.original
            if replaces is not None and a.code == "NoSuchKey":
                raise WriteConflict(
                    f"{what} in {self.location} was deleted since it was read"
                ) from a.original
            raise self._refused(a, f"writing {what}") from a.original
        return str(answer["ETag"])

    def _delete_if(self, full_key: str, version: str, *, what: str) -> None:
        """Delete the object only if it is still `version`; `WriteConflict` when it changed."""
        try:
            self._call("delete_object", f"deleting {what}", Key=full_key, IfMatch=version)
            return
        except _Answer as a:
            if a.code == "NoSuchKey":
                return
            if a.conflict:
                raise WriteConflict(f"{what} in {self.location} changed") from a.original
            if a.code not in _UNSUPPORTED_CODES and a.status != 501:
                raise self._refused(a, f"deleting {what}") from a.original
        except BackendError as e:
            # An old botocore without `IfMatch` on DeleteObject refuses the parameter locally.
            if not isinstance(e.__cause__, self._errors.ParamValidationError):
                raise
        # The store cannot delete conditionally: check, then delete. The window between the two
        # is a request long; a lock taken in it would be lost, which is why the header is used
        # wherever it is understood.
        current = self._get(full_key, what=what)
        if current is None:
            return
        if current.version != version:
            raise WriteConflict(f"{what} in {self.location} changed")
        try:
            self._call("delete_object", f"deleting {what}", Key=full_key)
        except _Answer as a:
            if a.code != "NoSuchKey":
                raise self._refused(a, f"deleting {what}") from a.original

    # -- errors ---------------------------------------------------------------------------------

    def _refused(self, a: _Answer, doing: str) -> BackendError:
        """S3 answered, with an error: say what it means for the person at the keyboard."""
        where = f"{self.location} ({doing})"
        if a.code == "NoSuchBucket":
            return BackendError(
                f"{where}: the bucket {self._bucket} does not exist; create it or fix the backend "
                "setting"
            )
        if a.code in _CREDENTIAL_CODES:
            return BackendError(
                f"{where}: the AWS credentials were refused ({a.code}); check AWS_PROFILE or "
                "AWS_ACCESS_KEY_ID, or log in again"
            )
        if a.code in _DENIED_CODES or a.status == 403:
            return BackendError(
                f"{where}: access denied; the credentials in use need s3:GetObject, s3:PutObject, "
                "s3:DeleteObject and s3:ListBucket on this prefix (without s3:ListBucket, S3 "
                "answers a missing object with AccessDenied too)"
            )
        if a.code in _REGION_CODES or a.status == 301:
            return BackendError(
                f"{where}: the bucket is in another region; set the backend's region or AWS_REGION"
            )
        if a.status >= 500 or a.code in ("SlowDown", "RequestTimeout"):
            return BackendError(
                f"{where}: the S3 service is failing ({a.status} {a.code}) after retries; try "
                "again later"
            )
        return BackendError(f"{where}: S3 answered {a.status} {a.code}")

    def _unusable(self, e: Exception, doing: str) -> BackendError:
        """No answer from S3 (or no request at all): configuration, credentials, network."""
        errors = self._errors
        where = f"{self.location} ({doing})"
        endpoint = getattr(getattr(self, "_client", None), "meta", None)
        # Credentials in the URL (`AWS_ENDPOINT_URL=https://key:secret@host`) are never shown.
        url = strip_userinfo(getattr(endpoint, "endpoint_url", None) or "the S3 endpoint")
        if isinstance(e, errors.NoCredentialsError | errors.PartialCredentialsError):
            return BackendError(
                f"{where}: no AWS credentials found; set AWS_PROFILE or AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or log in (aws sso login)"
            )
        if isinstance(e, errors.ProfileNotFound):
            profile = getattr(e, "kwargs", {}).get("profile", "?")
            return BackendError(f"{where}: the AWS profile {profile!r} does not exist")
        if isinstance(e, errors.InvalidRegionError | errors.NoRegionError):
            return BackendError(
                f"{where}: the AWS region is missing or invalid; set the backend's region or "
                "AWS_REGION"
            )
        if isinstance(e, errors.SSLError):
            return BackendError(f"{where}: TLS failed with {url}; check the endpoint URL")
        if isinstance(e, errors.ConnectionError | errors.HTTPClientError):
            return BackendError(
                f"{where}: cannot reach {url} (after retries); check the network, the region "
                "and the endpoint URL (endpoint_url or AWS_ENDPOINT_URL)"
            )
        if isinstance(e, errors.CredentialRetrievalError | errors.TokenRetrievalError):
            return BackendError(
                f"{where}: the AWS credentials could not be loaded ({type(e).__name__}); log in "
                "again (aws sso login) or check the profile"
            )
        # The class only: some botocore messages quote request parameters, and a body is one.
        return BackendError(f"{where}: the S3 client failed ({type(e).__name__})")
