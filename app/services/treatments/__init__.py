"""Treatment series and their sessions (ketamine infusions and the like): dose derivation and
safety flags, the record kinds' representations and the use cases that write them."""
