"""Readers and writers: single files with their geometry (:mod:`.volume`), the CAMUS layout (:mod:`.camus`)."""
