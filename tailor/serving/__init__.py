"""Serving with a guaranteed end: Provisioned Throughput and deployments, their expiry, teardown and reconciler.

May import `tailor.config`, `tailor.jobs` (the job record's shape) and the shared leaves.
"""
