"""Tailor's domain package, shared by synth-time code (app.py, stacks, constructs) and the Lambda handlers.

Rooms, lowest first (a room imports only rooms below it):
  errors, naming, aws, records   shared leaves: user errors, deterministic names, the client factory, SSM records
  datasets/                      the dataset validator (pure; streams)
  config/                        catalog and environment config -> frozen objects
  jobs/                          job request, job custom resource, completion, synth-time dataset checks
  serving/                       serving lifecycle, teardown schedules, reconciler
  plan/                          the plan and its cost
  cli                            the `tailor` command
"""
