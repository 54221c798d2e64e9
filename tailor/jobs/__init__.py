"""Customization jobs at deploy and run time: the request, the job custom resource, completion, preflight.

May import `tailor.config`, `tailor.datasets` and the shared leaves; never `tailor.serving` (serving reads
job records, not the other way round).
"""
