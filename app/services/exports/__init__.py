"""Data leaving or entering in bulk: the patient's CSV and FHIR exports, the ``/me`` export
document and its import, and the streaming helpers they share."""
