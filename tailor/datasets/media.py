"""Image and video content items of Converse records (bedrock.md B).

An item is {"image"|"video": {"format": ..., "source": {"s3Location": {"uri": "s3://...", "bucketOwner"?: ...}}}}.
"""

from __future__ import annotations

from .common import ERROR, Problems, kind, quoted, show
from .rules import DatasetRules

_S3_SHAPE = '{"s3Location": {"uri": "s3://bucket/key"}}'


class Media:
    """Checks media items and the dataset-wide media rules, so it keeps state across records."""

    def __init__(self, rules: DatasetRules, dataset_bucket: str | None) -> None:
        self.allowed = ("text",) + ("image",) * rules.allow_images + ("video",) * rules.allow_video
        self._formats = {"image": rules.image_formats, "video": rules.video_formats}
        self._tokens = {"image": rules.tokens_per_image, "video": 0}
        self._bucket = dataset_bucket
        self._first: tuple[str, int] | None = None  # kind and line of the dataset's first media item
        self._video_line = 0  # line whose videos are counted in _videos
        self._videos = 0

    def item(self, path: str, key: str, value: object, role: object, line: int, out: Problems) -> int:
        """Check one media item; return the tokens it adds."""
        if key not in self.allowed:
            out.append((ERROR, f"{path} has an item of type {show(key)}; allowed: {quoted(self.allowed)}"))
            return 0
        path = f"{path}.{key}"
        before = len(out)
        if role == "assistant":
            # bedrock.md B shows media only in user turns; Nova's sample validator rejects it in assistant turns
            out.append((ERROR, f'{path} is in an "assistant" message; {key}s are allowed only in "user" messages'))
        self._dataset_rules(path, key, line, out)
        if type(value) is not dict:
            out.append((ERROR, f'{path} is {kind(value)}; expected {{"format": ..., "source": {_S3_SHAPE}}}'))
            return 0
        fmt = value.get("format")
        formats = self._formats[key]
        if fmt not in formats:
            out.append((ERROR, f"{path}.format is {show(fmt)}; allowed: {quoted(formats)}"))
        self._source(f"{path}.source", value.get("source"), out)
        return self._tokens[key] if len(out) == before else 0

    def _dataset_rules(self, path: str, key: str, line: int, out: Problems) -> None:
        if self._first is None:
            self._first = (key, line)
        elif self._first[0] != key:
            first_key, first_line = self._first
            out.append(
                (
                    ERROR,
                    f"{path}: a dataset holds image records or video records, never both "
                    f"(first {first_key} on line {first_line})",
                )
            )
        if key == "video":
            if self._video_line != line:
                self._video_line, self._videos = line, 0
            self._videos += 1
            if self._videos == 2:
                out.append((ERROR, f"{path} is a second video in this record; at most one video per record"))

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
        owner = location.get("bucketOwner")
        if owner is not None and type(owner) is not str:
            out.append((ERROR, f"{path}.s3Location.bucketOwner is {kind(owner)}; expected an account ID string"))


def _bucket_of(uri: object) -> str | None:
    if type(uri) is not str or not uri.startswith("s3://"):
        return None
    bucket, _, key = uri[5:].partition("/")
    return bucket if bucket and key else None
