"""What the diary says about a treatment: the per-series trend (fed to the pure ``app.trends``
maths through its loader) and the cohort table across a clinician's patients."""
