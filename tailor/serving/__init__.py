"""Serving with a guaranteed end: Provisioned Throughput and deployments, their expiry, teardown and reconciler.

May import `tailor.jobs` (the job record, and a sweep's evaluation and decision, which serving drives) and the
shared leaves; never `tailor.config` (handlers get their settings from the resource's properties).
"""
