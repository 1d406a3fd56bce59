"""Is citizens' input used? Uptake of citizen proposals: adoption, time to decision, mention in the decision."""
