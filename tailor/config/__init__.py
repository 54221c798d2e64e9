"""What users write, checked once: the model catalog and each environment's config, parsed into frozen objects.

Lives here: YAML loading, the schema helpers, the catalog, environment and job config (with a job's
hyperparameters, sweep, evaluation and name), serving config and policy, and the editors' JSON Schema. May
import only the package's shared leaves (errors, naming) and `tailor.datasets` (dataset rules).
"""
