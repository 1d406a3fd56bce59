"""What the ``estimate`` stage publishes: domain means of every outcome by group, area type and wave
(:mod:`.domains`), group gaps (:mod:`.gaps`) and disclosure control of both (:mod:`.disclosure`)."""
