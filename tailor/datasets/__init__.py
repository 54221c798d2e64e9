"""Validate Bedrock customization datasets (JSONL) before any job is created."""

from .report import Finding, ValidationReport
from .rules import FORMATS, DatasetRules
from .validator import validate_path, validate_stream

__all__ = ["FORMATS", "DatasetRules", "Finding", "ValidationReport", "validate_path", "validate_stream"]
