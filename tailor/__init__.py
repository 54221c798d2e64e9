"""Tailor's domain package, shared by synth-time code (app.py, stacks, constructs) and the Lambda handlers.

Rooms, lowest first (a room imports only rooms below it):
  errors, naming, aws, records,  shared leaves: user errors, deterministic names and ownership tags, the client
  observability, storage           factory, SSM records, metrics and logs, the bucket emptier
  datasets/                      the dataset validator (pure; streams)
  config/                        catalog and environment config -> frozen objects
  jobs/                          job request, job custom resource, queue, sweeps and their evaluation,
                                 completion, synth-time dataset checks
  serving/                       serving lifecycle, teardown schedules, reconciler
  plan/                          the plan and its cost
  ops/                           day-two operations (status, extend, expire) over the records
  cli                            the `tailor` command
"""
