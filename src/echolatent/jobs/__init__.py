"""Folder jobs: one loop over sequences (:mod:`.loop`) shared by ``segment`` (:mod:`.segment`), ``smooth``
(:mod:`.smooth`), ``evaluate`` (:mod:`.evaluate`), ``run`` and ``demo`` (:mod:`.run`); staged output folders
(:mod:`.output`). The command line only parses options and calls these."""
