"""The synthetic demo scenario: :mod:`.generate` writes it, :mod:`.scales` holds its sizes (and is light
enough for the Snakefile to import), :mod:`.faults` injects known faults after ingest."""
