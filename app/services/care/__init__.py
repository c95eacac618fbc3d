"""Who may see whom: a patient's grants to clinicians and partner clients, partner client
registration, the per-request access decision, the patient records a caller may list, and the
hash-chained audit trail with the patient's access log."""
