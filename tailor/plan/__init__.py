"""The plan: what an environment starts and what it can cost, built from the config and rendered as text.

Sits on top: may import `tailor.config`, `tailor.jobs`, `tailor.serving` and the shared leaves.
"""
