"""``paindiary seed-demo``: a synthetic demo patient, clinician and ketamine series."""
