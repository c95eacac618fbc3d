"""Data leaving or entering in bulk: the patient's CSV and FHIR exports, the ``/me`` export
document and its import, the export quota per record and caller, and the streaming helpers they
share."""
