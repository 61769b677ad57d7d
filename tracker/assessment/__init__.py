"""Assessment: the scoring scheme, quarterly scores and their publication, red and yellow cards."""
