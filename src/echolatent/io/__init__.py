"""Readers and writers: one interface per recording format (:mod:`.readers`), single files with their geometry
(:mod:`.volume`), the CAMUS layout (:mod:`.camus`), what a command works on (:mod:`.discovery`)."""
