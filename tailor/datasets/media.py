"""Image and video content items of Converse records, and the dataset-wide media rules (docs/dataset-rules.md).

An item is {"image"|"video": {"format": ..., "source": {"s3Location": {"uri": "s3://...", "bucketOwner"?: ...}}}}.
"""

from __future__ import annotations

import re

from .common import ERROR, WARNING, Problems, kind, quoted, show
from .rules import MEDIA_KINDS, DatasetRules, MediaRules

_S3_SHAPE = '{"s3Location": {"uri": "s3://bucket/key"}}'
_SAFE_KEY = re.compile(r"[\w\-/.]+")
_PLURAL = {"image": "images", "video": "videos"}


class Media:
    """Checks media items; keeps the state of the dataset-wide rules (which kind came first) across records."""

    def __init__(self, rules: DatasetRules, dataset_bucket: str | None) -> None:
        self._rules: dict[str, MediaRules] = {}
        for key in MEDIA_KINDS:
            media = rules.media(key)
            if media is not None:
                self._rules[key] = media
        self.kinds = tuple(self._rules)
        self._mixed = rules.mixed_media
        self._bucket = dataset_bucket
        self._first: tuple[str, int] | None = None  # kind and line of the dataset's first media item
        self._line = 0  # the record whose items are counted below
        self._per_record: dict[str, int] = {}

    def allows(self, key: str) -> bool:
        return key in self._rules

    def item(self, path: str, key: str, value: object, role: object, line: int, out: Problems) -> int:
        """Check one media item (key is an allowed kind); return the tokens it adds."""
        media = self._rules[key]
        path = f"{path}.{key}"
        before = len(out)
        if role == "assistant":
            # Nova's documentation and every AWS sample validator: media only in user turns (assistant turns are
            # text, plus reasoning on Nova 2)
            where = f'{path} is in an "assistant" message'
            out.append((ERROR, f'{where}; {_PLURAL[key]} are allowed only in "user" messages'))
        self._dataset_rules(path, key, line, out)
        if type(value) is not dict:
            out.append((ERROR, f'{path} is {kind(value)}; expected {{"format": ..., "source": {_S3_SHAPE}}}'))
            return 0
        fmt = value.get("format")
        if fmt not in media.formats:
            lower = isinstance(fmt, str) and fmt.lower() in media.formats
            hint = " (lower case, as the Converse API spells them)" if lower else ""
            out.append((ERROR, f"{path}.format is {show(fmt)}; allowed: {quoted(media.formats)}{hint}"))
        self._source(f"{path}.source", value.get("source"), out)
        return media.tokens if len(out) == before else 0

    def per_message(self, where: str, counts: dict[str, int], out: Problems) -> None:
        """Limits on items of one kind in one message."""
        for key, count in counts.items():
            most = self._rules[key].max_per_message
            if most is not None and count > most:
                out.append((ERROR, f"{where} has {count} {_PLURAL[key]}; at most {most} per message"))

    def _dataset_rules(self, path: str, key: str, line: int, out: Problems) -> None:
        if self._line != line:
            self._line, self._per_record = line, {}
        count = self._per_record[key] = self._per_record.get(key, 0) + 1
        most = self._rules[key].max_per_record
        if most is not None and count == most + 1:
            out.append((ERROR, f"{path} is {key} number {count} in this record; at most {most} per record"))
        if self._mixed:
            return
        if self._first is None:
            self._first = (key, line)
        elif self._first[0] != key:
            first_key, first_line = self._first
            out.append(
                (
                    ERROR,
                    f"{path} is {'an' if key == 'image' else 'a'} {key}, but this dataset's first media item is "
                    f"{'an' if first_key == 'image' else 'a'} {first_key} (line {first_line}); a dataset is text "
                    f"with images or text with videos, never both",
                )
            )

    def _source(self, path: str, source: object, out: Problems) -> None:
        location = source.get("s3Location") if type(source) is dict else None
        if type(location) is not dict:
            out.append((ERROR, f"{path} is {kind(source)}; expected {_S3_SHAPE} (media are read from S3)"))
            return
        uri = location.get("uri")
        bucket = _bucket_of(uri)
        if bucket is None:
            out.append((ERROR, f'{path}.s3Location.uri is {show(uri)}; expected an S3 URI like "s3://bucket/key"'))
        elif self._bucket is not None and bucket != self._bucket:
            out.append(
                (
                    ERROR,
                    f"{path}.s3Location.uri is in bucket {show(bucket)}; "
                    f"media must be in the dataset's bucket {show(self._bucket)}",
                )
            )
        elif isinstance(uri, str) and not _SAFE_KEY.fullmatch(uri[5:]):
            # AWS's sample validators (Nova V1-V3, Forge SDK) allow only these; the documentation says so only of
            # the dataset's own file name, so this is a warning
            out.append(
                (
                    WARNING,
                    f"{path}.s3Location.uri {show(uri)} has characters other than letters, digits, _ - / . "
                    "which AWS's sample validators reject",
                )
            )
        owner = location.get("bucketOwner")
        if owner is not None and type(owner) is not str:
            out.append((ERROR, f"{path}.s3Location.bucketOwner is {kind(owner)}; expected an account ID string"))


def _bucket_of(uri: object) -> str | None:
    if type(uri) is not str or not uri.startswith("s3://"):
        return None
    bucket, _, key = uri[5:].partition("/")
    return bucket if bucket and key else None
