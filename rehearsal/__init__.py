"""The rehearsal: Tailor's whole lifecycle on a laptop, with no AWS account (`make rehearse ENV=dev`).

Lives here: the stateful Bedrock double (validated against botocore's service model) that the tests and the
rehearsal share, its HTTP front end, and the harness that deploys into a local AWS emulator and drives it.
Imports `tailor` (never the other way round); nothing here is shipped in a Lambda asset.
"""
