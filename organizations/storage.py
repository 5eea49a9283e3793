"""Where an organization's files live: raw mail, attachments and exports, one folder or key
prefix per organization (its schema name), never reachable by a URL.

On disk it is django-tenants' TenantFileSystemStorage (MEDIA_ROOT/<schema>/…). With
MAIL_STORAGE_BUCKET it is TenantS3Storage: the same names under the key prefix <schema>/ in a
private bucket. Either way a file leaves only through a view that checked the reader (a
member of its organization; staff for an export) and streams it; the storage hands out no links.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.base import File
from django.core.files.storage import Storage, default_storage
from django.http import FileResponse
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from organizations.schemas import current_schema, storage_schema

# What a storage raises when it cannot be reached or refuses us (network, timeouts, S3 5xx or
# credentials, a full or read-only disk): the message is not at fault, so it is not refused.
STORAGE_ERRORS: tuple[type[Exception], ...] = (OSError, BotoCoreError, ClientError)


class StorageUnavailable(Exception):
    """The organization's storage could not be reached to store or read a file; try again
    later (the webhook answers 503, so the provider keeps the message and delivers it again;
    the worker retries the email)."""


@contextmanager
def storage_errors(what: str) -> Iterator[None]:
    """Turn an unreachable storage into StorageUnavailable (FileNotFoundError stays itself: a
    missing file is a missing file)."""
    try:
        yield
    except FileNotFoundError:
        raise
    except STORAGE_ERRORS as error:
        raise StorageUnavailable(f"{what}: {type(error).__name__}") from error


class TenantS3Storage(S3Storage):
    """S3 (or any S3-compatible service) with the current schema as the key prefix, resolved
    at each call as TenantFileSystemStorage resolves its folder, so a FileField's name
    (mail/2026/12/<code>.eml) is the same on disk and in the bucket, and a media folder can be
    copied into the bucket as it is.

    Objects are written without an ACL: a bucket's objects are private unless its policy says
    otherwise, and buckets created since 2023 refuse any ACL but the owner's
    (AccessControlListNotSupported). Reads stream from the bucket (S3Storage's own file
    downloads the whole object into memory first).
    """

    @property  # type: ignore[override]  # S3Storage sets a fixed `location` in __init__
    def location(self) -> str:
        return current_schema()

    def url(self, name: str | None, parameters: Any = None, expire: Any = None, http_method: Any = None) -> str:
        # No presigned or public links: whoever holds a link could read the file without
        # being a member. Views stream files instead (organizations.storage.file_response).
        raise NotImplementedError("Stored files have no URL; a view that checks membership streams them.")

    def _open(self, name: str, mode: str = "rb") -> File:
        if "w" in mode:
            return super()._open(name, mode)  # type: ignore[no-any-return]
        key = self._normalize_name(clean_name(name))
        try:
            response = self.bucket.Object(key).get()
        except ClientError as error:
            if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                raise FileNotFoundError(f"File does not exist: {name}") from error
            raise
        # botocore's StreamingBody reads from the connection as it is read.
        stream = File(response["Body"], name=name)
        stream.size = response["ContentLength"]
        stream.mode = mode
        return stream

    def delete_all(self) -> int:
        """Delete every object under the current schema's prefix (orphans too); their number."""
        deleted = 0
        for batch in self.bucket.objects.filter(Prefix=f"{self.location}/").page_size(1000).pages():
            keys = [{"Key": item.key} for item in batch]
            if keys:
                self.bucket.delete_objects(Delete={"Objects": keys, "Quiet": True})
                deleted += len(keys)
        return deleted


def organization_files_delete_all(schema_name: str, storage: Storage | None = None) -> int:
    """Remove everything the organization has in storage, files no row points to included (a
    message stored just before its insert failed): its key prefix in the bucket, or its media
    folder. The number of objects deleted from a bucket (0 on disk, where the folder goes whole)."""
    storage = storage or default_storage
    with storage_schema(schema_name):
        if isinstance(storage, TenantS3Storage):  # a LazyObject answers for what it wraps
            return storage.delete_all()
        location = getattr(storage, "location", None)
        if location and Path(location).name == schema_name and Path(location).is_dir():
            shutil.rmtree(location)
    return 0


def file_open(name: str, storage: Storage | None = None) -> File:
    """A stored file of the current organization, opened to be read as a stream.
    StorageUnavailable when the storage cannot be reached, FileNotFoundError when the file
    is not there."""
    storage = storage or default_storage
    with storage_errors("Could not read a stored file"):
        return storage.open(name, "rb")


def file_response(handle: File, *, filename: str, content_type: str = "application/octet-stream") -> FileResponse:
    """A download of an opened stored file (file_open), streamed block by block from the disk
    or the bucket, never read whole. Only views that checked the reader's membership call it."""
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
    response.block_size = 64 * 1024
    size = getattr(handle, "size", None)
    if "Content-Length" not in response and isinstance(size, int):
        # A bucket's stream cannot seek, so FileResponse cannot measure it; S3 said its length.
        response["Content-Length"] = str(size)
    return response
